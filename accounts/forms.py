"""Forms for verification, profiles and organisations. Uploads are checked by their content."""

import io

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from core import clean

from . import services
from .models import Organisation, OrganisationDomain, User, VerificationRequest

LANGUAGE_CHOICES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("pt", _("Portuguese")),
    ("ar", _("Arabic")),
    ("zh", _("Chinese")),
    ("ko", _("Korean")),
    ("ca", _("Catalan")),
    ("eu", _("Basque")),
    ("it", _("Italian")),
    ("de", _("German")),
    ("nl", _("Dutch")),
    ("ru", _("Russian")),
    ("sw", _("Swahili")),
    ("sn", _("Shona")),
    ("hi", _("Hindi")),
    ("ja", _("Japanese")),
    ("tr", _("Turkish")),
    ("id", _("Indonesian")),
]

http_only = URLValidator(
    schemes=["http", "https"], message=_("Enter a link that starts with http:// or https://.")
)


class HttpURLField(forms.URLField):
    """A web link; refuses javascript:, ftp:, data: and the like, and does not guess a scheme."""

    default_validators = [http_only]
    default_error_messages = {"invalid": http_only.message}

    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)

    def to_python(self, value):
        value = (value or "").strip()
        if value and "://" not in value and ":" in value.split("/")[0]:
            raise ValidationError(http_only.message, code="invalid")
        return super().to_python(value)


def sniff_evidence(head: bytes) -> str | None:
    """The real type of an evidence file from its first bytes, whatever its name says."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def validate_evidence_file(upload) -> None:
    if upload.size > settings.VERIFICATION_EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s. Send a smaller scan or a link instead.")
            % {
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.VERIFICATION_EVIDENCE_MAX_BYTES),
            }
        )
    head = upload.read(16)
    upload.seek(0)
    kind = sniff_evidence(head)
    if kind is None:
        raise ValidationError(_("Only PDF, PNG or JPEG documents are accepted; this file is something else."))
    if kind in ("png", "jpeg"):
        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ValidationError(_("This image is damaged or is not really an image.")) from error
        finally:
            upload.seek(0)


class VerificationRequestForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Your organisation"),
        queryset=Organisation.objects.all(),
        required=False,
        empty_label=_("— Not in the list —"),
    )
    proposed_organisation = forms.CharField(
        label=_("Organisation not in the list"),
        max_length=200,
        required=False,
        help_text=_("Its full name, for example: City of Montevideo."),
    )
    position = forms.CharField(label=_("Your position"), max_length=200)
    evidence_url = HttpURLField(
        label=_("Link to an official page that names you"),
        required=False,
        max_length=500,
        help_text=_("For example, your organisation's staff directory."),
    )
    evidence_file = forms.FileField(
        label=_("Or a document (PDF, PNG or JPEG, at most 5 MB)"),
        required=False,
        validators=[validate_evidence_file],
        help_text=_("It is deleted once a moderator decides; only its fingerprint is kept."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    message = forms.CharField(
        label=_("Message to the moderators"), widget=forms.Textarea, required=False, max_length=2000
    )

    def __init__(self, *args, resubmission: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.resubmission = resubmission
        if resubmission:
            del self.fields["organisation"]
            del self.fields["proposed_organisation"]

    def clean(self):
        data = super().clean()
        if not self.resubmission and not data.get("organisation") and not data.get("proposed_organisation"):
            self.add_error(
                "organisation", _("Choose your organisation, or name it if it is not in the list.")
            )
        no_evidence = not data.get("evidence_url") and not data.get("evidence_file")
        evidence_errors = self.errors.get("evidence_file") or self.errors.get("evidence_url")
        if not self.resubmission and no_evidence and not evidence_errors:
            self.add_error(
                "evidence_url",
                _("Add a link to an official page or a document that shows your position."),
            )
        return data


class ApproveForm(forms.Form):
    # Plain choices, computed once per page: a ModelChoiceField would query per request shown.
    organisation = forms.TypedChoiceField(
        label=_("Organisation"), coerce=int, required=False, empty_value=None
    )
    new_organisation = forms.CharField(label=_("Or create this organisation"), max_length=200, required=False)
    position = forms.CharField(label=_("Position"), max_length=200)

    def __init__(self, *args, organisation_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisation_choices is None:
            organisation_choices = list(Organisation.objects.values_list("pk", "name"))
        self.fields["organisation"].choices = [("", "---------"), *organisation_choices]

    def clean_organisation(self):
        pk = self.cleaned_data.get("organisation")
        return Organisation.objects.filter(pk=pk).first() if pk else None

    def clean(self):
        data = super().clean()
        if not data.get("organisation") and not data.get("new_organisation"):
            self.add_error("organisation", _("Confirm the organisation, or create the proposed one."))
        return data


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=VerificationRequest.RejectReason.choices)
    note = forms.CharField(
        label=_("Note to the person"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class AskForm(forms.Form):
    question = forms.CharField(label=_("What do you need to know?"), widget=forms.Textarea(attrs={"rows": 3}))


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for revoking"), max_length=500)


class RosterForm(forms.Form):
    roster = forms.FileField(
        label=_("Roster (CSV file with one email per row)"),
        help_text=_("Any column that holds an email address is read; other columns are ignored."),
    )

    def clean_roster(self):
        return read_csv_upload(self.cleaned_data["roster"])


def read_csv_upload(upload) -> str:
    """The text of an uploaded CSV file (UTF-8, else Latin-1), up to 2 MB."""
    if upload.size > 2 * 1024 * 1024:
        raise ValidationError(_("The file is larger than 2 MB; split it into several files."))
    raw = upload.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("latin-1")
        except UnicodeDecodeError as error:
            raise ValidationError(_("Save the file as a UTF-8 CSV file and try again.")) from error


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = [
            "name",
            "short_name",
            "slug",
            "kind",
            "country",
            "metropolis_region",
            "language",
            "is_member",
            "website",
            "latitude",
            "longitude",
        ]
        help_texts = {"slug": _("Used in the address of the page; leave empty to make one from the name.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=_("Official email domain"), max_length=253, help_text=_("For example: toronto.ca")
    )
    include_subdomains = forms.BooleanField(label=_("Addresses on its subdomains count too"), required=False)

    def clean_domain(self):
        domain = services.normalise_domain(self.cleaned_data["domain"])
        if OrganisationDomain.objects.filter(domain=domain).exists():
            raise ValidationError(
                _("The domain %(domain)s already belongs to an organisation.") % {"domain": domain}
            )
        return domain


AVATAR_SIZE = 256


def reencode_avatar(upload):
    """Decode the image and write a fresh square PNG: nothing of the uploaded file survives but pixels."""
    if upload.size > settings.AVATAR_MAX_BYTES:
        raise ValidationError(
            _("The picture is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.AVATAR_MAX_BYTES)}
        )
    try:
        with Image.open(upload) as image:
            if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise ValidationError(_("Use a PNG, JPEG, GIF or WebP picture."))
            if image.width * image.height > 40_000_000:
                raise ValidationError(_("The picture has too many pixels."))
            image.load()
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError(_("This file is not a picture we can read.")) from error
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((AVATAR_SIZE, AVATAR_SIZE))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return InMemoryUploadedFile(buffer, "avatar", "avatar.png", "image/png", buffer.tell(), None)


class ProfileForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages you speak"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_language = forms.ChoiceField(
        label=_("Language of the site and of your emails"), choices=settings.LANGUAGES, required=False
    )
    avatar_upload = forms.FileField(
        label=_("Picture (PNG, JPEG, GIF or WebP, at most 2 MB)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove my picture"), required=False)

    class Meta:
        model = User
        fields = [
            "display_name",
            "username",
            "position",
            "department",
            "bio",
            "expertise",
            "time_zone",
            "gender",
        ]
        help_texts = {
            "gender": _("Optional and never shown on your profile: only counted in anonymous totals."),
            "username": _("Your public handle, used in @mentions and in the address of your profile."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bio"].widget = forms.Textarea(attrs={"rows": 4})
        self.fields["languages"].initial = self.instance.languages
        self.fields["preferred_language"].initial = self.instance.preferred_language
        if self.instance.is_verified_official and self.instance.verification_method == "review":
            # Position is what a moderator confirmed; changing it means asking again.
            self.fields["position"].disabled = True
            self.fields["position"].help_text = _("Confirmed at verification; ask a moderator to change it.")

    def clean_display_name(self):
        return clean.clean_line(self.cleaned_data["display_name"])

    def clean_position(self):
        return clean.clean_line(self.cleaned_data["position"])

    def clean_department(self):
        return clean.clean_line(self.cleaned_data["department"])

    def clean_bio(self):
        return clean.strip_controls(self.cleaned_data["bio"])

    def clean_time_zone(self):
        import zoneinfo

        value = self.cleaned_data["time_zone"]
        if value not in zoneinfo.available_timezones():
            raise ValidationError(_("Choose a time zone such as Europe/Madrid or America/Toronto."))
        return value

    def clean_avatar_upload(self):
        upload = self.cleaned_data.get("avatar_upload")
        return reencode_avatar(upload) if upload else None


class SignupExtraForm(forms.Form):
    """Extra sign-up fields (allauth ACCOUNT_SIGNUP_FORM_CLASS): how others will see you."""

    display_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    position = forms.CharField(
        label=_("Your position"),
        max_length=200,
        required=False,
        help_text=_("For example: Head of ICT Division. Shown next to your name."),
    )

    def clean_display_name(self):
        return clean.clean_line(self.cleaned_data["display_name"])

    def clean_position(self):
        return clean.clean_line(self.cleaned_data["position"])

    def signup(self, request, user) -> None:
        services.complete_signup_profile(
            user, display_name=self.cleaned_data["display_name"], position=self.cleaned_data["position"]
        )


# --- invitations ---------------------------------------------------------------------------

FORUM_LANGUAGES = [("", _("The organisation's language"))] + [
    (code, name) for code, name in settings.LANGUAGES
]


class InviteOneForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.all(),
        required=False,
        help_text=_("Leave empty when the address is on an organisation's official domain."),
    )
    language = forms.ChoiceField(label=_("Language of the email"), choices=FORUM_LANGUAGES, required=False)
    groups = forms.CharField(
        label=_("Groups"), required=False, help_text=_("Names separated by semicolons (;).")
    )
    custom_message = forms.CharField(
        label=_("Personal message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_groups(self):
        return [group.strip() for group in self.cleaned_data["groups"].split(";") if group.strip()]


class InviteCsvForm(forms.Form):
    attendees = forms.FileField(
        label=_("Attendee list (CSV file)"),
        help_text=_(
            "Columns: email, name, position, organisation, language, groups (separated by ;). "
            "A header row may name them in any order."
        ),
    )
    custom_message = forms.CharField(
        label=_("Personal message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_attendees(self):
        return read_csv_upload(self.cleaned_data["attendees"])


class AcceptInvitationForm(SignupExtraForm):
    """The invitee's one form: name and position as at sign-up, and an optional password."""

    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters. Leave it empty to sign in with a link we email you each time."),
    )


class SignInLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
