"""Demo data for accounts: organisations with made-up domains, demo officials, staff and moderator.

Idempotent: running it again changes nothing. `seed_accounts()` is what
`seed_metropolis` calls; it returns the log-ins to print.
"""

from allauth.account.models import EmailAddress
from django.db import transaction

from . import services
from .models import Organisation, OrganisationDomain, User, VerificationMethod

DEMO_ACCOUNTS = [
    # username, email, password, role label, flags
    (
        "admin",
        "admin@metropolis.example",
        "metropolis-admin",
        "staff",
        {"is_staff": True, "is_superuser": True},
    ),
    (
        "moderator",
        "moderator@metropolis.example",
        "metropolis-moderator",
        "moderator",
        {"is_moderator": True},
    ),
]

# The organisations named in shared/content/questions.json. Domains are made up
# (`<short-name>.example`); staff replace them with the real ones in production.
ORGANISATIONS = [
    # slug, name, short name, kind, country, Metropolis region, demo domain
    (
        "amb",
        "Metropolitan Area of Barcelona (AMB)",
        "AMB",
        "metropolitan_area",
        "Spain",
        "Europe",
        "amb.example",
    ),
    ("barcelona", "Barcelona City Council", "Barcelona", "city", "Spain", "Europe", "barcelona.example"),
    ("belo-horizonte", "Belo Horizonte", "", "city", "Brazil", "Latin America", "belohorizonte.example"),
    ("bilbao", "Bilbao", "", "city", "Spain", "Europe", "bilbao.example"),
    ("bologna", "Bologna", "", "city", "Italy", "Europe", "bologna.example"),
    ("brussels", "Brussels", "", "region", "Belgium", "Europe", "brussels.example"),
    ("cordoba", "Córdoba", "", "city", "Argentina", "Latin America", "cordoba.example"),
    ("dallas", "Dallas", "", "city", "United States", "North America", "dallas.example"),
    ("grand-paris", "Grand Paris", "", "metropolitan_area", "France", "Europe", "grandparis.example"),
    ("guangzhou", "Guangzhou", "", "city", "China", "Asia-Pacific", "guangzhou.example"),
    ("harare", "Harare", "", "city", "Zimbabwe", "Africa", "harare.example"),
    ("la-paz", "La Paz", "", "city", "Bolivia", "Latin America", "lapaz.example"),
    ("lisbon", "Lisbon", "", "city", "Portugal", "Europe", "lisbon.example"),
    ("montevideo", "Montevideo", "", "city", "Uruguay", "Latin America", "montevideo.example"),
    ("montreal", "Montréal", "", "city", "Canada", "North America", "montreal.example"),
    ("nouakchott", "Nouakchott Region", "Nouakchott", "region", "Mauritania", "Africa", "nouakchott.example"),
    ("quito", "Quito", "", "city", "Ecuador", "Latin America", "quito.example"),
    ("ramallah", "Ramallah", "", "city", "Palestine", "Middle East and West Asia", "ramallah.example"),
    ("sao-paulo", "São Paulo", "", "city", "Brazil", "Latin America", "saopaulo.example"),
    ("seoul", "Seoul", "", "city", "Republic of Korea", "Asia-Pacific", "seoul.example"),
    ("toronto", "Toronto", "", "city", "Canada", "North America", "toronto.example"),
]

DEMO_OFFICIAL_PASSWORD = "metropolis-official"

# Demo officials with the positions of the officials who answered the launch questions.
# The names are made up: these are demo accounts, not the real people.
DEMO_OFFICIALS = [
    # username, display name, organisation slug, position, languages, expertise
    (
        "harare_ict",
        "Tendai Moyo",
        "harare",
        "Head of ICT Division",
        ["en", "sn"],
        ["ICT", "digital inclusion"],
    ),
    (
        "amb_innovation",
        "Laia Puig",
        "amb",
        "Innovation Coordinator",
        ["ca", "es", "en"],
        ["smart city", "open data"],
    ),
    (
        "toronto_connected",
        "Jordan Clarke",
        "toronto",
        "Manager, Connected Community (Smart City), Technology Services Division",
        ["en", "fr"],
        ["broadband", "digital inclusion"],
    ),
    (
        "bh_economy",
        "Beatriz Almeida",
        "belo-horizonte",
        "Municipal Secretary for Economic Development",
        ["pt", "es"],
        ["e-government"],
    ),
    (
        "grandparis_innovation",
        "Camille Bernard",
        "grand-paris",
        "Project Manager, Digital Innovation",
        ["fr", "en"],
        ["training", "innovation"],
    ),
    (
        "cordoba_digital",
        "Martín Ferreyra",
        "cordoba",
        "Digital Transformation Director",
        ["es"],
        ["govtech", "data"],
    ),
    (
        "barcelona_digital",
        "Marta Soler",
        "barcelona",
        "Commissioner for Digital Innovation",
        ["ca", "es", "en"],
        ["digital rights"],
    ),
]


def _ensure_user(username: str, email: str, password: str, **fields) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=email, **fields)
        user.set_password(password)
        user.save()
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def seed_demo_accounts() -> list[tuple[str, str, str]]:
    """Create the demo log-ins once, with confirmed emails; return (email, password, role)."""
    logins = []
    for username, email, password, role, flags in DEMO_ACCOUNTS:
        _ensure_user(username, email, password, display_name=username.title(), **flags)
        logins.append((email, password, role))
    return logins


def seed_organisations() -> dict[str, Organisation]:
    """The organisations of the launch questions, each with its demo email domain."""
    organisations = {}
    for slug, name, short_name, kind, country, region, domain in ORGANISATIONS:
        organisation, _created = Organisation.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "short_name": short_name,
                "kind": kind,
                "country": country,
                "metropolis_region": region,
            },
        )
        OrganisationDomain.objects.get_or_create(domain=domain, defaults={"organisation": organisation})
        organisations[slug] = organisation
    return organisations


def seed_demo_officials(organisations: dict[str, Organisation]) -> list[tuple[str, str, str]]:
    """Verified demo officials (by their organisation's email domain); return their log-ins."""
    logins = []
    for username, name, slug, position, languages, expertise in DEMO_OFFICIALS:
        organisation = organisations[slug]
        domain = organisation.domains.first()
        email = f"{username}@{domain.domain}"
        user = _ensure_user(username, email, DEMO_OFFICIAL_PASSWORD, display_name=name, languages=languages)
        if not user.is_verified_official:
            services.verify_official(
                user,
                organisation,
                method=VerificationMethod.EMAIL_DOMAIN,
                position=position,
                domain=domain.domain,
                reason="Demo data.",
                notify=False,
            )
            user.expertise.add(*expertise)
        logins.append((email, DEMO_OFFICIAL_PASSWORD, f"official ({position}, {organisation.display_name})"))
    return logins


@transaction.atomic
def seed_accounts() -> list[tuple[str, str, str]]:
    """Everything accounts brings to the demo; returns every log-in as (email, password, role)."""
    logins = seed_demo_accounts()
    organisations = seed_organisations()
    return logins + seed_demo_officials(organisations)
