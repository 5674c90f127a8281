from django import forms

from .models import EmailFrequency, NotificationKind


class EmailPreferencesForm(forms.Form):
    """One choice per kind of notification: immediately, daily, weekly or never."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(label=label, choices=EmailFrequency.choices)
