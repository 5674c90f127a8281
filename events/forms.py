import zoneinfo

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Event


def _formfield(field, **kwargs):
    # Links typed without a scheme are https: plain http is refused for join links anyway.
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in the event's own zone (the zone field of the same form)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class EventForm(forms.ModelForm):
    """Staff create and edit events. Times are entered in the event's time zone."""

    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[(name, name) for name in sorted(zoneinfo.available_timezones())],
        initial="Europe/Madrid",
        help_text=_("Times below are in this zone."),
    )
    starts_at = LocalDateTimeField(label=_("Starts at"))
    ends_at = LocalDateTimeField(label=_("Ends at"))
    registration_opens_at = LocalDateTimeField(label=_("Registration opens"), required=False)
    registration_closes_at = LocalDateTimeField(
        label=_("Registration closes"), required=False, help_text=_("Leave empty to close at the end.")
    )

    LOCAL_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")

    class Meta:
        model = Event
        formfield_callback = _formfield
        fields = [
            "title",
            "title_es",
            "title_fr",
            "slug",
            "summary",
            "summary_es",
            "summary_fr",
            "description",
            "kind",
            "status",
            "time_zone",
            "starts_at",
            "ends_at",
            "venue",
            "address",
            "join_url",
            "stream_url",
            "capacity",
            "registration_opens_at",
            "registration_closes_at",
            "allow_members",
            "is_launch",
            "recording_url",
            "materials",
            "closing_summary",
            "close_topics_after_days",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "materials": forms.Textarea(attrs={"rows": 3}),
            "closing_summary": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _("Leave empty to make one from the title.")
        if self.instance.pk:
            zone = self.instance.zone
            for name in self.LOCAL_FIELDS:
                value = getattr(self.instance, name)
                if value:
                    self.initial[name] = value.astimezone(zone).replace(tzinfo=None)

    def clean(self):
        cleaned = super().clean()
        zone_name = cleaned.get("time_zone")
        if zone_name:
            zone = zoneinfo.ZoneInfo(zone_name)
            for name in self.LOCAL_FIELDS:
                value = cleaned.get(name)
                if value:
                    # The browser sends a wall-clock time; it is in the event's zone, not the server's.
                    naive = timezone.make_naive(value) if timezone.is_aware(value) else value
                    cleaned[name] = naive.replace(tzinfo=zone)
        return cleaned

    def _post_clean(self):
        # The service validates the model (full_clean) and saves; errors come back to this form.
        pass

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class RegisterForm(forms.Form):
    show_publicly = forms.BooleanField(
        label=_("Show my name on the public list of attendees"), required=False
    )


class MessageForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=150)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)


class ForumLinksForm(forms.Form):
    """Staff link the event to the forum: its questions, the categories opening with a launch, invitees."""

    topics = forms.CharField(
        label=_("Question topics"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Topic addresses (such as /t/my-question/12) or numbers, one per line."),
    )
    launch_categories = forms.ModelMultipleChoiceField(
        label=_("Categories that open with the launch"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for the forum's launch: read-only until the event goes live."),
    )
    invitees = forms.CharField(
        label=_("Invited officials"),
        required=False,
        help_text=_("Usernames, separated by spaces. With the speakers, they may post before the start."),
    )

    def __init__(self, *args, event=None, **kwargs):
        from forum.models import Category

        super().__init__(*args, **kwargs)
        self.fields["launch_categories"].queryset = Category.objects.order_by("position", "name")
        if event is not None and not self.is_bound:
            self.initial = {
                "topics": "\n".join(t.get_absolute_url() for t in event.linked_topics.order_by("pk")),
                "launch_categories": list(event.launch_categories.all()),
                "invitees": " ".join(event.invitees.values_list("username", flat=True)),
            }

    def clean_topics(self):
        import re

        from forum.models import Topic

        numbers = []
        for line in self.cleaned_data["topics"].split():
            match = re.search(r"([0-9]{1,18})/?$", line.strip())
            if not match:
                raise forms.ValidationError(
                    _("“%(value)s” is not a topic address or number.") % {"value": line}
                )
            numbers.append(int(match.group(1)))
        topics = list(Topic.objects.filter(pk__in=numbers))
        missing = sorted(set(numbers) - {topic.pk for topic in topics})
        if missing:
            raise forms.ValidationError(
                _("No topic with the number %(numbers)s.") % {"numbers": ", ".join(map(str, missing))}
            )
        return topics

    def clean_invitees(self):
        from accounts.models import User

        names = self.cleaned_data["invitees"].replace(",", " ").replace("@", "").split()
        users = list(User.objects.filter(username__in=names, is_active=True))
        missing = sorted(set(names) - {user.username for user in users})
        if missing:
            raise forms.ValidationError(_("Nobody is called %(names)s.") % {"names": ", ".join(missing)})
        return users


class SpeakerForm(forms.Form):
    username = forms.CharField(
        label=_("Username of an official"), required=False, help_text=_("Or give a name below.")
    )
    name = forms.CharField(label=_("Name"), required=False, max_length=150)
    position = forms.CharField(label=_("Position"), required=False, max_length=200)
    organisation = forms.CharField(label=_("Organisation"), required=False, max_length=200)

    def clean(self):
        from accounts.models import User

        cleaned = super().clean()
        username = (cleaned.get("username") or "").lstrip("@").strip()
        cleaned["user"] = None
        if username:
            cleaned["user"] = User.objects.filter(username=username, is_active=True).first()
            if cleaned["user"] is None:
                self.add_error("username", _("Nobody is called %(name)s.") % {"name": username})
        elif not cleaned.get("name"):
            self.add_error("name", _("Give the speaker's name or an official's username."))
        return cleaned


class SessionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = LocalDateTimeField(label=_("Starts at"))
    ends_at = LocalDateTimeField(label=_("Ends at"))
    venue = forms.CharField(label=_("Venue"), required=False, max_length=200)
    room = forms.CharField(label=_("Room"), required=False, max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, event=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event

    def clean(self):
        cleaned = super().clean()
        for name in ("starts_at", "ends_at"):
            value = cleaned.get(name)
            if value and self.event is not None:
                naive = timezone.make_naive(value) if timezone.is_aware(value) else value
                cleaned[name] = naive.replace(tzinfo=self.event.zone)
        return cleaned
