"""What support staff may see of a user: service codes masked to their last 4 characters."""

from __future__ import annotations

from sqlalchemy import Connection

from knowledge.service_codes import mask
from storage.user_data import SqlUserData


def masked_codes(conn: Connection, user_id: int) -> list[dict[str, object]]:
    data = SqlUserData(conn, user_id)
    return [
        {
            "id": c.id,
            "code": mask(c.code),
            "status": c.status.value,
            "product": c.product,
            "instance": c.instance,
            "paid": c.paid,
            "origin": c.origin.value,
            "history": [
                {
                    "from": h.from_status.value if h.from_status else None,
                    "to": h.to_status.value,
                    "at": h.at.isoformat(),
                }
                for h in data.code_history(c.id)
            ],
        }
        for c in data.list_codes()
    ]
