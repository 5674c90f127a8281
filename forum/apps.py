from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = _("Forum")

    def ready(self):
        from django.db.models.signals import post_save

        from accounts.invitations import invitation_event
        from accounts.models import VerificationEvent
        from accounts.profile_sections import register_profile_section
        from notifications.hooks import register_already_read

        from . import live
        from .message_views import message_button
        from .moderation import log_invitations, log_verification_decision
        from .notify import already_read
        from .views import profile_links

        live.register_channels()  # /topic, /category, /latest (forum/live.py)
        # No email for a post the person has read in the site before it was due.
        register_already_read(already_read)
        # One's own profile links to one's bookmarks, watched topics and activity.
        register_profile_section(profile_links)
        # Someone else's profile offers a Message button to those who may write (forum/message_views.py).
        register_profile_section(message_button)
        # Verification decisions by moderators and staff also go to the moderation log.
        post_save.connect(
            log_verification_decision,
            sender=VerificationEvent,
            dispatch_uid="forum.log_verification_decision",
        )
        # Invitations sent, sent again and revoked are logged too (who invited whom).
        invitation_event.connect(log_invitations, dispatch_uid="forum.log_invitations")
