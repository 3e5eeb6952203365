"""``kiemtra token …``: API tokens of people — issued (shown once), listed, rotated, expired and revoked, audited."""
from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

import typer

from services.entry.cli.console import console, parse_date as _date, user_errors
from services.errors import KiemtraError
from services.settings import get_settings

token_app = typer.Typer(help="Mã truy cập (API token) của cán bộ: cấp, xem danh sách, thay, đặt hạn, thu hồi.",
                        no_args_is_help=True)

By = Annotated[str, typer.Option(help="mã cán bộ thực hiện (ghi vào nhật ký)")]
Days = Annotated[int | None, typer.Option(help="số ngày hiệu lực (bỏ trống: đến khi bị thu hồi)")]


def _show_once(token: str, token_id: int | None, person_code: str) -> None:
    console.print(f"Mã truy cập số {token_id} của {person_code} (chỉ hiển thị MỘT LẦN, hãy lưu lại ngay; "
                  "hệ thống chỉ giữ mã băm, không xem lại được):", soft_wrap=True)
    typer.echo(token)  # on its own line, outside rich, for a clean copy


@token_app.command("issue")
def issue(person: Annotated[str, typer.Option(help="mã cán bộ được cấp")], by: By, days: Days = None,
          label: Annotated[str, typer.Option(help="ghi chú, ví dụ 'điện thoại công vụ'")] = "") -> None:
    """Cấp một mã truy cập mới (mã cũ vẫn dùng được)."""
    from services import access
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        actor = access.find_person(session, by, field="--by")
        token, row = access.issue_token(session, person=access.find_person(session, person, field="--person"),
                                        by=actor.code, label=label, days=days)
    _show_once(token, row.id, person.upper())


@token_app.command("list")
def list_tokens(person: Annotated[str | None, typer.Option(help="chỉ mã của cán bộ này")] = None) -> None:
    """Danh sách mã truy cập (không bao giờ hiển thị chính mã)."""
    from sqlmodel import col, select

    from models import Person
    from services import access
    from services.rules.calendar import VIETNAM
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        who = access.find_person(session, person, field="--person") if person else None
        rows = access.tokens_of(session, who)
        owners = {p.id: p.code for p in session.exec(select(Person).where(col(Person.id).in_({r.person_id for r in rows})))}
    if not rows:
        console.print("Không có mã truy cập nào.")
    for row in rows:  # one line each, never wrapped: easy to read, grep and copy an id from
        expiry = _moment(row.expires_at.astimezone(VIETNAM)) if row.expires_at else "không hạn"
        console.print(f"Số {row.id} · {owners.get(row.person_id, '?')} · {access.state_vi(row)} · cấp "
                      f"{row.created_at.astimezone(VIETNAM):%d/%m/%Y} bởi {row.created_by} · hết hạn: {expiry}"
                      + (f" · {row.label}" if row.label else ""), soft_wrap=True, markup=False)


def _moment(at: datetime) -> str:
    """A day (expiries set by 'token expire' fall at 00:00), or the day and time (those of 'issue --days')."""
    return f"{at:%d/%m/%Y}" if at.time() == time(0) else f"{at:%d/%m/%Y %H:%M}"


@token_app.command("rotate")
def rotate(person: Annotated[str, typer.Option(help="mã cán bộ")], by: By, days: Days = None,
           token_id: Annotated[int | None, typer.Option("--id", help="chỉ thay mã số này (mặc định: mọi mã còn hiệu lực)")] = None,
           label: Annotated[str, typer.Option(help="ghi chú cho mã mới")] = "") -> None:
    """Cấp mã mới và thu hồi mã cũ (phiên đăng nhập web mở bằng mã cũ cũng kết thúc)."""
    from services import access
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        actor = access.find_person(session, by, field="--by")
        token, row, revoked = access.rotate(session, person=access.find_person(session, person, field="--person"),
                                            by=actor.code, days=days, label=label, token_id=token_id)
    console.print(f"Đã thu hồi {len(revoked)} mã cũ: {', '.join(str(t.id) for t in revoked) or 'không có'}.", soft_wrap=True)
    _show_once(token, row.id, person.upper())


@token_app.command("expire")
def expire(token_id: Annotated[int, typer.Argument(help="số của mã truy cập (xem 'kiemtra token list')")],
           on: Annotated[str, typer.Option(help="ngày hết hạn YYYY-MM-DD (từ 00:00 giờ Việt Nam ngày đó)")], by: By) -> None:
    """Đặt ngày hết hạn cho một mã truy cập."""
    from services import access
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        actor = access.find_person(session, by, field="--by")
        row = access.expire(session, token_id=token_id, on=_date(on, "--on"), by=actor.code)
    console.print(f"Mã truy cập số {row.id} hết hạn từ 00:00 ngày {_date(on):%d/%m/%Y}.")


@token_app.command("revoke")
def revoke(by: By, reason: Annotated[str, typer.Option(help="lý do thu hồi")],
           token_id: Annotated[int | None, typer.Argument(help="số của mã truy cập")] = None,
           person: Annotated[str | None, typer.Option(help="thu hồi mọi mã của cán bộ này")] = None) -> None:
    """Thu hồi một mã (ID) hoặc mọi mã của một cán bộ (--person); phiên đăng nhập web mở bằng chúng cũng kết thúc."""
    from services import access
    from services.db import migrate, session_scope

    settings = get_settings()
    migrate(settings)
    with user_errors(), session_scope(settings) as session:
        actor = access.find_person(session, by, field="--by")
        if (token_id is None) == (person is None):
            raise KiemtraError("Hãy chỉ ra đúng một trong hai: số mã truy cập (ID) hoặc --person.")
        owner = access.find_person(session, person, field="--person") if person else None
        revoked = access.revoke(session, by=actor.code, reason=reason, token_id=token_id, person=owner)
    console.print(f"Đã thu hồi {len(revoked)} mã truy cập: {', '.join(str(t.id) for t in revoked) or 'không có'}.", soft_wrap=True)
