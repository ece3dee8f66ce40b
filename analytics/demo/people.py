"""Demo users, teams and entitlements: one user per role (two more portfolio
managers so that every portfolio has an owner), all with the password
``portal-demo``.

Who sees what (full load; ``tests/analytics/test_load_demo.py`` checks it):

========== ================== ====================================================
username   role               portfolios visible
========== ================== ====================================================
pm         portfolio manager  owns (manages) EQ-US-GROWTH, EQ-US-VALUE,
                              EQ-GLOBAL-QUALITY; sees the other equity-desk
                              portfolios through the "Equity desk" team and
                              MA-BALANCED-EUR through a personal view entitlement
pm2        portfolio manager  owns EQ-EUROPE, EQ-UK-INCOME, EQ-JAPAN; equity desk
pm3        portfolio manager  owns the four MA-* portfolios ("Multi-asset desk")
trader     trader             the equity desk's portfolios only (team, view)
risk       risk manager       all, through the "Risk" team
compliance compliance officer all, through personal view entitlements
exec       executive          all, through the "Executive" team
admin      administrator      all: superuser and staff, no entitlement needed
========== ================== ====================================================
"""

from __future__ import annotations

from analytics.models import Portfolio
from portal.models import AccessLevel, Role, Team, User
from portal.services import entitlement_grant

DEMO_PASSWORD = "portal-demo"  # noqa: S105 - a published demo credential

# username, first name, last name, role, teams, is_staff, is_superuser
USERS = [
    ("pm", "Paula", "Martin", Role.PORTFOLIO_MANAGER, ["Equity desk"], False, False),
    ("pm2", "Peter", "Novak", Role.PORTFOLIO_MANAGER, ["Equity desk"], False, False),
    ("pm3", "Priya", "Shah", Role.PORTFOLIO_MANAGER, ["Multi-asset desk"], False, False),
    ("trader", "Tom", "Baker", Role.TRADER, ["Equity desk"], False, False),
    ("risk", "Rita", "Lopez", Role.RISK_MANAGER, ["Risk"], False, False),
    ("compliance", "Chen", "Wu", Role.COMPLIANCE_OFFICER, ["Compliance"], False, False),
    ("exec", "Elena", "Fischer", Role.EXECUTIVE, ["Executive"], False, False),
    ("admin", "Adam", "Stone", Role.ADMIN, [], True, True),
]

TEAMS = {
    "Equity desk": "Portfolio managers and traders of the equity portfolios.",
    "Multi-asset desk": "Portfolio managers of the multi-asset portfolios.",
    "Risk": "Risk management: sees every portfolio.",
    "Compliance": "Compliance officers.",
    "Executive": "Executive committee: sees every portfolio.",
}

DESK_TEAMS = {"equity": "Equity desk", "multi_asset": "Multi-asset desk"}
# Who executes a desk's rebalancing trades (a desk without one: each portfolio's
# manager); the portfolio managers execute their sleeves' own trades.
DESK_TRADERS = {"equity": "trader"}
# The portfolio that ``pm`` may view outside the equity desk.
PM_EXTRA_VIEW = "MA-BALANCED-EUR"


def people_ensure() -> dict[str, User]:
    """Create or update the demo users and teams (natural keys: username, team
    name), reset the demo password and add the memberships. Returns the users by
    username."""
    teams = {}
    for name, description in TEAMS.items():
        teams[name], _ = Team.objects.update_or_create(
            name=name, defaults={"description": description}
        )
    users = {}
    for username, first, last, role, team_names, is_staff, is_superuser in USERS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.example.com",
                "role": role,
                "is_staff": is_staff,
                "is_superuser": is_superuser,
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        for name in team_names:
            teams[name].members.add(user)
        users[username] = user
    return users


def entitlements_ensure(*, portfolios: dict[str, tuple[Portfolio, str]]) -> int:
    """Grant the demo entitlements (see the module docstring) through
    ``portal.services.entitlement_grant``, which upserts and audits each one.
    ``portfolios`` maps code → (portfolio, desk). Returns the number of grants."""
    teams = {team.name: team for team in Team.objects.filter(name__in=TEAMS)}
    users = {user.username: user for user in User.objects.filter(username__in=["pm", "compliance"])}
    grants = 0
    for code, (portfolio, desk) in portfolios.items():
        for team in (teams[DESK_TEAMS[desk]], teams["Risk"], teams["Executive"]):
            entitlement_grant(actor=None, portfolio=portfolio, team=team, level=AccessLevel.VIEW)
            grants += 1
        entitlement_grant(
            actor=None, portfolio=portfolio, user=users["compliance"], level=AccessLevel.VIEW
        )
        grants += 1
        if code == PM_EXTRA_VIEW:
            entitlement_grant(
                actor=None, portfolio=portfolio, user=users["pm"], level=AccessLevel.VIEW
            )
            grants += 1
    return grants
