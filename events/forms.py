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
