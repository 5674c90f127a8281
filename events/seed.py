"""Demo events: the forum's launch webinar and a two-day City Managers Days in Barcelona.

Idempotent. Written through events/services.py like any other write.
"""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from forum.models import Category, TopicStatus
from forum.seed import QUESTIONS_FILE

from . import services
from .models import Event, EventKind, EventStatus

MADRID = ZoneInfo("Europe/Madrid")
LAUNCH_SUMMARY = {
    "en": "Members share how their administrations adapt to digitalisation, and we launch the "
    "Metropolis peer learning forum live.",
    "es": "Los miembros comparten cómo sus administraciones se adaptan a la digitalización, y lanzamos "
    "en directo el foro de aprendizaje de Metropolis.",
    "fr": "Les membres partagent la manière dont leurs administrations s'adaptent à la numérisation, et "
    "nous lançons en direct le forum d'apprentissage de Metropolis.",
}
LAUNCH_SPEAKERS = ["harare_ict", "amb_innovation", "toronto_connected"]
CMD_SLUG = "city-managers-days-barcelona"


def next_date(month: int, day: int, hour: int, minute: int = 0, now: datetime | None = None) -> datetime:
    """The next ``day``/``month`` at this time in Madrid, from now."""
    now = now or timezone.now()
    year = now.astimezone(MADRID).year
    while True:
        candidate = datetime(year, month, day, hour, minute, tzinfo=MADRID)
        if candidate > now:
            return candidate
        year += 1


def _admin() -> User:
    return User.objects.filter(is_staff=True).order_by("-is_superuser", "pk").first()


@transaction.atomic
def seed_launch(questions, *, starts_at: datetime | None = None) -> Event:
    """The launch webinar on World Telecommunication and Information Society Day, linked to the
    three questions. ``starts_at`` (from --starts-in) reschedules it, also on later runs, so a
    launch can be rehearsed again; otherwise the first run sets the next 17 May, 15:00 Madrid."""
    admin = _admin()
    data = json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))["launch_event"]
    event = Event.objects.filter(slug=data["slug"]).first()
    if event is None:
        start = starts_at or next_date(5, 17, 15)
        event = services.create_event(
            admin,
            slug=data["slug"],
            title=data["title"]["en"],
            title_es=data["title"]["es"],
            title_fr=data["title"]["fr"],
            summary=LAUNCH_SUMMARY["en"],
            summary_es=LAUNCH_SUMMARY["es"],
            summary_fr=LAUNCH_SUMMARY["fr"],
            description=(
                "On World Telecommunication and Information Society Day (17 May), members share their "
                "experience of how their administrations are adapting to digitalisation.\n\n"
                "During the webinar we launch the Metropolis peer learning forum live: invited officials "
                "have already started the debate on the three questions below."
            ),
            kind=EventKind.WEBINAR,
            status=EventStatus.PUBLISHED,
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
            time_zone="Europe/Madrid",
            join_url="https://meet.jit.si/MetropolisDigitalisationLaunch",
            stream_url="https://www.youtube-nocookie.com/embed/live_stream?channel=UCmetropolis",
            capacity=500,
            allow_members=True,
            is_launch=True,
            organisers=[admin],
        )
        for username in LAUNCH_SPEAKERS:
            user = User.objects.filter(username=username).first()
            if user:
                services.add_speaker(event, admin, user=user)
        services.add_speaker(
            event,
            admin,
            name="Metropolis Secretariat",
            organisation="World Association of Major Metropolises",
        )
    elif starts_at is not None:
        # A rehearsal: put the event back before its start so it goes live again by itself.
        Event.objects.filter(pk=event.pk).update(
            status=EventStatus.PUBLISHED, went_live_at=None, ended_at=None
        )
        event.refresh_from_db()
        services.update_event(event, admin, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=90))
    category = Category.objects.filter(slug="digitalisation").first()
    # The category is held read-only only when the questions wait for the launch; a demo
    # started without --starts-in keeps the forum open from the first run.
    waiting = any(topic.status == TopicStatus.SCHEDULED for topic in questions)
    services.link_forum(
        event,
        admin,
        topics=questions,
        category=category,
        launch_categories=[category] if category and waiting else [],
    )
    return event


@transaction.atomic
def seed_city_managers_days() -> Event:
    """Two days in Barcelona with sessions in two venues, as in November 2019."""
    event = Event.objects.filter(slug=CMD_SLUG).first()
    if event is not None:
        return event
    admin = _admin()
    day_one = next_date(11, 20, 9)
    day_two = day_one + timedelta(days=1)
    fira = "Fira Gran Via (Smart City Expo World Congress)"
    headquarters = "Metropolis headquarters"
    event = services.create_event(
        admin,
        slug=CMD_SLUG,
        title="City Managers Days: the digitalisation of metropolitan spaces",
        title_es="City Managers Days: la digitalización de los espacios metropolitanos",
        title_fr="City Managers Days : la numérisation des espaces métropolitains",
        summary="Two days in Barcelona for managers and directors of data and digitalisation areas.",
        summary_es="Dos días en Barcelona para responsables de datos y digitalización.",
        summary_fr="Deux jours à Barcelone pour les responsables des données et de la numérisation.",
        description=(
            "Organised by Metropolis with the support of the Metropolitan Area of Barcelona (AMB). "
            "How can local governments obtain the resources to channel the digital revolution in favour "
            "of their citizens? How can digital transformation reinforce democracy and participation? "
            "How can they guarantee the digital sovereignty of data?"
        ),
        kind=EventKind.IN_PERSON,
        status=EventStatus.PUBLISHED,
        starts_at=day_one.replace(hour=9),
        ends_at=day_two.replace(hour=18),
        time_zone="Europe/Madrid",
        venue="Barcelona",
        address="Fira Gran Via, Av. Joan Carles I 64, L'Hospitalet de Llobregat; "
        "Metropolis, Avinguda Diagonal 523, Barcelona",
        capacity=40,
        allow_members=False,
        organisers=[admin],
    )
    speakers = {
        key: services.add_speaker(event, admin, name=name, position=position, organisation=organisation)
        for key, name, position, organisation in [
            (
                "bettencourt",
                "Luis Bettencourt",
                "Director",
                "Mansueto Institute for Urban Innovation, University of Chicago",
            ),
            (
                "donaldson",
                "Michael Donaldson",
                "Commissioner of Digital Innovation, Electronic Administration and Good Governance",
                "Barcelona City Council",
            ),
            ("heichlinger", "Alexander Heichlinger", "Expert", "European Institute of Public Administration"),
        ]
    }
    sessions = [
        ("Meeting of the city managers", day_one, 9, 30, 11, 0, fira, "Room CC1", []),
        (
            "Digitalisation of Metropolitan Spaces: presenting the issue paper "
            "“The digital transformation of metropolises”",
            day_one,
            11,
            30,
            13,
            0,
            fira,
            "Room CC4",
            ["bettencourt"],
        ),
        ("The Cities Coalition for Digital Rights", day_one, 14, 30, 15, 30, fira, "Room CC4", ["donaldson"]),
        (
            "Roundtable: Brussels, La Paz, Lisbon, Ramallah and São Paulo on governing with data",
            day_one,
            15,
            45,
            17,
            30,
            fira,
            "Room CC4",
            [],
        ),
        (
            "City Managers Community session",
            day_two,
            9,
            30,
            13,
            0,
            headquarters,
            "Assembly room",
            ["heichlinger"],
        ),
        (
            "Field visits: Ca l'Alier urban innovation centre and CitiLab (departure)",
            day_two,
            14,
            30,
            18,
            0,
            headquarters,
            "Entrance hall",
            [],
        ),
    ]
    for title, day, h1, m1, h2, m2, venue, room, speaker_keys in sessions:
        services.add_session(
            event,
            admin,
            title=title,
            starts_at=day.replace(hour=h1, minute=m1),
            ends_at=day.replace(hour=h2, minute=m2),
            venue=venue,
            room=room,
            speakers=[speakers[key] for key in speaker_keys],
        )
    return event


def seed_events(questions, *, starts_at: datetime | None = None) -> list[Event]:
    launch = seed_launch(questions, starts_at=starts_at)
    return [launch, seed_city_managers_days()]
