"""Demo data for the forum: the "Digitalisation" category, the three launch questions and replies.

Idempotent: a second run changes nothing, except that an explicit `opens_at`
reschedules the three questions (that is what `seed_metropolis --starts-in` asks for).
Everything is written through forum.services, like any other write.
"""

import json
from datetime import datetime
from pathlib import Path

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, User, VerificationMethod, VerificationState

from . import services
from .models import Category, PinScope, ReadAccess, StartAccess, Topic, TopicStatus

# A copy of shared/content/questions.json inside the project, so deployments carry it.
QUESTIONS_FILE = Path(__file__).resolve().parent / "content" / "questions.json"
DEMO_OFFICIAL_PASSWORD = "metropolis-official"

CATEGORIES = [
    {
        "slug": "digitalisation",
        "name": "Digitalisation",
        "name_es": "Digitalización",
        "name_fr": "Numérisation",
        "description": "Challenges and opportunities of digitalisation in metropolitan spaces.",
        "description_es": "Retos y oportunidades de la digitalización en los espacios metropolitanos.",
        "description_fr": "Défis et opportunités de la numérisation dans les espaces métropolitains.",
        "colour": "#0b5cad",
        "position": 1,
        "start_access": StartAccess.MODERATORS,
    },
    {
        "slug": "peer-exchange",
        "name": "Peer exchange",
        "name_es": "Intercambio entre pares",
        "name_fr": "Échanges entre pairs",
        "description": "Ask colleagues in other cities how they solved a problem you face.",
        "description_es": "Pregunte a colegas de otras ciudades cómo resolvieron un problema como el suyo.",
        "description_fr": "Demandez à vos collègues d'autres villes comment ils ont résolu un problème.",
        "colour": "#1b6e3a",
        "position": 2,
        "start_access": StartAccess.VERIFIED,
    },
]

# The opening post of each question, written for this project in the three languages.
QUESTION_BODY = {
    "en": (
        "This question opens the Metropolis peer forum on digitalisation, launched at the webinar "
        "for World Telecommunication and Information Society Day (17 May).\n\n"
        "Tell your peers what your government has tried, what worked and what did not. "
        "Answer a colleague's post directly to keep the conversation threaded."
    ),
    "es": (
        "Esta pregunta abre el foro de pares de Metropolis sobre digitalización, lanzado en el seminario "
        "web del Día Mundial de las Telecomunicaciones y de la Sociedad de la Información (17 de mayo).\n\n"
        "Cuente a sus pares qué ha probado su gobierno, qué funcionó y qué no. "
        "Responda directamente a la intervención de un colega para mantener el hilo de la conversación."
    ),
    "fr": (
        "Cette question ouvre le forum entre pairs de Metropolis sur la numérisation, lancé lors du "
        "webinaire de la Journée mondiale des télécommunications et de la société de l'information "
        "(17 mai).\n\n"
        "Racontez à vos pairs ce que votre gouvernement a essayé, ce qui a fonctionné et ce qui n'a pas "
        "fonctionné. Répondez directement au message d'un collègue pour garder le fil de la conversation."
    ),
}

# Demo officials; the same usernames as accounts/seed.py, so either seed may create them first.
DEMO_AUTHORS = {
    "harare_ict": ("Tendai Moyo", "Head of ICT Division", "harare", "Harare", "harare.example"),
    "amb_innovation": (
        "Laia Puig",
        "Innovation Coordinator",
        "amb",
        "Metropolitan Area of Barcelona (AMB)",
        "amb.example",
    ),
    "toronto_connected": (
        "Jordan Clarke",
        "Manager, Connected Community (Smart City), Technology Services Division",
        "toronto",
        "Toronto",
        "toronto.example",
    ),
    "bh_economy": (
        "Beatriz Almeida",
        "Municipal Secretary for Economic Development",
        "belo-horizonte",
        "Belo Horizonte",
        "belohorizonte.example",
    ),
    "grandparis_innovation": (
        "Camille Bernard",
        "Project Manager, Digital Innovation",
        "grand-paris",
        "Grand Paris",
        "grandparis.example",
    ),
    "cordoba_digital": (
        "Martín Ferreyra",
        "Digital Transformation Director",
        "cordoba",
        "Córdoba",
        "cordoba.example",
    ),
}

# Demo replies per question: (key, author, answers key or None for the question, text).
DEMO_REPLIES = {
    "ict-challenges-opportunities": [
        (
            "harare",
            "harare_ict",
            None,
            "In Harare the biggest challenge is cost: mobile data is expensive next to incomes, so many "
            "residents reach city services through one shared phone. The opportunity is that almost "
            "everyone can reach that phone. We now design each service for SMS first and the web second.",
        ),
        (
            "cordoba",
            "cordoba_digital",
            "harare",
            "Nos pasó lo mismo en Córdoba: empezamos los trámites por mensajería porque era lo que la gente "
            "ya usaba. ¿Cómo resolvieron la identificación de las personas cuando todo pasa por SMS?",
        ),
        (
            "harare-2",
            "harare_ict",
            "cordoba",
            "A one-time code sent to the registered number, with the ward office as a fallback. It is not "
            "perfect, but nobody has to queue a whole morning for a simple certificate any more.",
        ),
        (
            "paris",
            "grandparis_innovation",
            "harare-2",
            "Le guichet de secours est essentiel. À Grand Paris, des médiateurs numériques y accompagnent "
            "les personnes qui n'ont pas de téléphone à elles, et ils nous signalent les démarches trop "
            "compliquées.",
        ),
        (
            "toronto",
            "toronto_connected",
            None,
            "For us the gap is less about coverage than about affordability and skills. Mapping where "
            "households go without home internet changed our priorities more than any technology choice.",
        ),
    ],
    "leverage-digitisation-equity": [
        (
            "amb",
            "amb_innovation",
            None,
            "En el Área Metropolitana de Barcelona medimos la brecha digital barrio por barrio antes de "
            "invertir. Los datos mostraron que la brecha de género entre las personas mayores era mucho "
            "mayor de lo que pensábamos.",
        ),
        (
            "toronto",
            "toronto_connected",
            "amb",
            "@amb_innovation did you publish the neighbourhood data openly? When we did, community groups "
            "came to us with proposals we would never have thought of.",
        ),
        (
            "amb-2",
            "amb_innovation",
            "toronto",
            "Sí, como datos abiertos y con una guía en lenguaje claro. Sin la guía casi nadie los usaba.",
        ),
        (
            "bh",
            "bh_economy",
            "amb-2",
            "En Belo Horizonte aprendimos lo mismo: la guía importa tanto como los datos. Ahora cada "
            "conjunto publicado lleva un ejemplo de uso pensado para los pequeños comercios.",
        ),
    ],
    "covid-19-internet-access": [
        (
            "bh",
            "bh_economy",
            None,
            "Sí. En Belo Horizonte, durante el confinamiento, miles de familias no podían inscribirse en las "
            "ayudas de emergencia porque el formulario solo existía en internet.",
        ),
        (
            "paris",
            "grandparis_innovation",
            "bh",
            "Même constat chez nous : la crise a rendu visibles des personnes que nos statistiques ne "
            "voyaient pas. Nous avons ouvert des points d'accès dans les mairies en quelques semaines.",
        ),
        (
            "harare",
            "harare_ict",
            "paris",
            "Opening access points quickly is the lesson we share. The harder part was keeping them open "
            "once the emergency budget ended. Did yours survive the crisis?",
        ),
    ],
}


def load_questions() -> dict:
    return json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))


def ensure_demo_author(username: str) -> User:
    """The demo official with this username: the one accounts/seed.py made, or a verified stand-in."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    name, position, slug, organisation_name, domain = DEMO_AUTHORS[username]
    organisation, _created = Organisation.objects.get_or_create(
        slug=slug, defaults={"name": organisation_name}
    )
    user = User(
        username=username,
        email=f"{username}@{domain}",
        display_name=name,
        position=position,
        organisation=organisation,
        verification_state=VerificationState.VERIFIED,
        verification_method=VerificationMethod.EMAIL_DOMAIN,
        verified_at=timezone.now(),
    )
    user.set_password(DEMO_OFFICIAL_PASSWORD)
    user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def ensure_moderator() -> User:
    user = User.objects.filter(username="moderator").first()
    if user is None:
        user = User.objects.create_user(
            "moderator", "moderator@metropolis.example", "metropolis-moderator", is_moderator=True
        )
    return user


def seed_categories() -> dict[str, Category]:
    categories = {}
    for fields in CATEGORIES:
        values = {key: value for key, value in fields.items() if key != "slug"}
        category, _created = Category.objects.get_or_create(
            slug=fields["slug"], defaults={**values, "read_access": ReadAccess.EVERYONE}
        )
        categories[category.slug] = category
    return categories


@transaction.atomic
def seed_forum(*, opens_at: datetime | None = None, reschedule: bool = False) -> list[Topic]:
    """Create the categories, the three questions (pinned everywhere) and demo replies, once.

    `opens_at` in the future schedules the questions (the demo officials are invited posters,
    as the speakers are, so their answers are there before the launch); None or a past time
    opens them now. With `reschedule`, questions that already exist take the new opening time.
    """
    moderator = ensure_moderator()
    category = seed_categories()["digitalisation"]
    data = load_questions()
    now = timezone.now()
    topics = []
    for question in data["questions"]:
        topic = Topic.objects.filter(category=category, slug=question["slug"]).first()
        if topic is None:
            topic = services.create_topic(
                moderator,
                category,
                question["title"]["en"],
                QUESTION_BODY["en"],
                tags=question["tags"],
                opens_at=opens_at if opens_at and opens_at > now else None,
                slug=question["slug"],
            )
            services.translate_topic(
                topic,
                titles={lang: title for lang, title in question["title"].items() if lang != "en"},
                bodies={lang: body for lang, body in QUESTION_BODY.items() if lang != "en"},
            )
            services.pin_topic(topic, PinScope.GLOBAL)
            _add_demo_replies(topic, DEMO_REPLIES.get(question["slug"], []))
        elif reschedule:
            if opens_at and opens_at > now:
                services.schedule_topic(topic, opens_at)
            elif topic.status == TopicStatus.SCHEDULED:
                services.open_topic(topic)
        topics.append(topic)
    _name_tags(data.get("tag_labels", {}))
    return topics


def _name_tags(labels: dict) -> None:
    """Tags' names in each language, for tags that have none yet (moderators' names are kept)."""
    from taggit.models import Tag

    from .models import TagLabel

    named = set(TagLabel.objects.values_list("tag__name", flat=True))
    for tag in Tag.objects.filter(name__in=labels).exclude(name__in=named):
        services.set_tag_names(tag, labels[tag.name])


def _add_demo_replies(topic: Topic, replies) -> None:
    authors = {username: ensure_demo_author(username) for _key, username, _parent, _text in replies}
    # Demo officials answer before the launch, as invited speakers do.
    services.invite_posters(topic, authors.values())
    posts = {}
    for key, username, parent_key, text in replies:
        posts[key] = services.create_reply(authors[username], topic, text, reply_to=posts.get(parent_key))
