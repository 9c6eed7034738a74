"""Demo accounts, one per role, with fixed and plainly demo passwords. For demo warehouses only: the caller
(`serve --demo`, `app.py demo`) decides; never call this on a production application database."""

from __future__ import annotations

from .users import AccountError, add_user, get_user

DEMO_ACCOUNTS: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    # username, role, units, password, display name
    ("lanhdao", "leader", (), "demo-lanhdao-57", "Lãnh đạo (demo)"),
    ("cuanam", "ward", ("00073",), "demo-cuanam-57", "Phường Cửa Nam (demo)"),
    ("sokhcn", "department", ("00070", "00073"), "demo-sokhcn-57", "Sở KH&CN (demo)"),
    ("phantich", "analyst", (), "demo-phantich-57", "Chuyên viên phân tích (demo)"),
    ("quantri", "admin", (), "demo-quantri-57", "Quản trị (demo)"),
)


def demo_accounts(db, settings=None) -> list[tuple[str, str, tuple[str, ...], str]]:
    """Create the demo accounts that are missing (existing ones are left as they are); returns
    (username, role, units, password) of each, for printing."""
    out = []
    for username, role, units, password, display in DEMO_ACCOUNTS:
        if get_user(db, username) is None:
            try:
                add_user(db, username, role, units, password=password, display_name=display, actor="demo",
                         settings=settings)
            except AccountError:
                if get_user(db, username) is None:  # not another worker's creation a moment ago
                    raise
        out.append((username, role, units, password))
    return out
