"""What support staff may see of a user: service codes masked to their last 4 characters."""

from __future__ import annotations

from sqlalchemy import Connection, select

from knowledge.service_codes import mask, redact
from storage.models import FaqMiss, ServiceCode
from storage.user_data import SqlUserData


def masked_codes(conn: Connection, user_id: int) -> list[dict[str, object]]:
    data = SqlUserData(conn, user_id)
    full = [c.code for c in data.list_codes()]  # one pasted as another's instance is masked there too
    return [
        {
            "id": c.id,
            "code": mask(c.code),
            "status": c.status.value,
            "product": c.product,
            "instance": c.instance and redact(c.instance, full),
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


def faq_misses(conn: Connection, limit: int = 50) -> list[dict[str, object]]:
    """Unanswered questions, newest first. They are what users typed: staff-only, and any service
    code of theirs masked (also one saved after they asked)."""
    rows = conn.execute(
        select(FaqMiss.c.created_at, FaqMiss.c.language, FaqMiss.c.score, FaqMiss.c.question, FaqMiss.c.user_id)
        .order_by(FaqMiss.c.id.desc())
        .limit(max(1, limit))
    ).all()
    users = {r.user_id for r in rows if r.user_id is not None}
    codes: dict[int, list[str]] = {}
    for user_id, code in conn.execute(
        select(ServiceCode.c.user_id, ServiceCode.c.code).where(ServiceCode.c.user_id.in_(users))
    ):
        codes.setdefault(user_id, []).append(code)
    return [
        {"at": at.isoformat(), "language": lang, "score": score, "question": redact(q, codes.get(uid, []))}
        for at, lang, score, q, uid in rows
    ]
