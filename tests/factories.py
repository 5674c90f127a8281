import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Organisation, OrganisationDomain, User, VerificationMethod, VerificationState

DEFAULT_PASSWORD = "a-long-test-password"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"City {n}")
    slug = factory.Sequence(lambda n: f"city-{n}")
    country = "Canada"
    metropolis_region = "North America"


class OrganisationDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationDomain

    organisation = factory.SubFactory(OrganisationFactory)
    domain = factory.Sequence(lambda n: f"city{n}.example")


class UserFactory(factory.django.DjangoModelFactory):
    """A signed-up member with a confirmed email, not verified as an official."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@mail.example")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def confirmed_email(user, create, extracted, **kwargs):
        if create:
            user.save()
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


class OfficialFactory(UserFactory):
    """A verified official of an organisation."""

    username = factory.Sequence(lambda n: f"official{n}")
    position = "Head of ICT Division"
    organisation = factory.SubFactory(OrganisationFactory)
    verification_state = VerificationState.VERIFIED
    verification_method = VerificationMethod.REVIEW
    verified_at = factory.LazyFunction(timezone.now)


class ModeratorFactory(OfficialFactory):
    username = factory.Sequence(lambda n: f"moderator{n}")
    is_moderator = True


class StaffFactory(OfficialFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


# --- forum ----------------------------------------------------------------------------------
from forum.models import Category, Topic  # noqa: E402


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class TopicFactory(factory.django.DjangoModelFactory):
    """A topic with its first post, made through forum.services.create_topic.

    Extra model fields (status, opens_at, pin_scope...) are applied after creation.
    """

    class Meta:
        model = Topic

    category = factory.SubFactory(CategoryFactory)
    author = factory.SubFactory(OfficialFactory)
    title = factory.Sequence(lambda n: f"How does your city close the digital divide? ({n})")
    raw = "Tell us what worked in your city, and what did not."
    tags: list = []

    @classmethod
    def _create(cls, model_class, category, author, title, raw, tags=(), **fields):
        from forum.services import create_topic

        topic = create_topic(author, category, title, raw, tags=tags)
        if fields:
            model_class.objects.filter(pk=topic.pk).update(**fields)
            topic.refresh_from_db()
        return topic


# --- events -----------------------------------------------------------------------------------


class EventFactory(factory.django.DjangoModelFactory):
    """A published webinar a week from now, 90 minutes long, in Madrid's time zone."""

    class Meta:
        model = "events.Event"

    title = factory.Sequence(lambda n: f"Webinar on digital cities {n}")
    slug = factory.Sequence(lambda n: f"webinar-{n}")
    summary = "City officials share how their administrations adapt to digitalisation."
    kind = "webinar"
    status = "published"
    time_zone = "Europe/Madrid"
    # Whole minutes, as people enter them (calendar files carry no fractions of a second).
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timezone.timedelta(days=7)).replace(second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda event: event.starts_at + timezone.timedelta(minutes=90))
    join_url = "https://meet.jit.si/metropolis-webinar"
    stream_url = "https://www.youtube-nocookie.com/embed/abc123"
    allow_members = False


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Registration"

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(OfficialFactory)
    status = "registered"
