"""One id for the filing-type dialog: "filingtype" (its command), where "ftype" was stored.

Stored dialog states, the users' active and last dialog, and the turn log (the staff card reads
the dialog's verdict from it) are renamed. Buttons of the old id on messages already sent are
answered as stale buttons: the user gets the menu.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (("dialog_states", "dialog"), ("users", "active_dialog"), ("users", "last_dialog"), ("turns", "dialog"))


def _rename(old: str, new: str) -> None:
    for table, column in COLUMNS:
        op.execute(sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old").bindparams(old=old, new=new))


def upgrade() -> None:
    _rename("ftype", "filingtype")


def downgrade() -> None:
    _rename("filingtype", "ftype")
