from django.urls import path

from . import invitation_views, views

app_name = "accounts"

urlpatterns = [
    path(
        "letter_avatar/<str:username>/<int:size>/<str:version>.svg", views.letter_avatar, name="letter_avatar"
    ),
    path("u/", views.directory, name="directory"),
    path("u/<str:username>", views.profile, name="profile"),
    path("u/<str:username>/revoke", views.revoke, name="revoke"),
    path("profile/edit", views.profile_edit, name="profile_edit"),
    path("verification/", views.verification, name="verification"),
    path("verification/renewal", views.verification_send_renewal, name="verification_send_renewal"),
    path("verification/renew/<str:token>/", views.verification_renew, name="verification_renew"),
    path("review/verifications", views.review_verifications, name="review_verifications"),
    path("review/verifications/<int:pk>/decide", views.review_decide, name="review_decide"),
    path("review/verifications/<int:pk>/evidence", views.review_evidence, name="review_evidence"),
    path("review/verifications/audit", views.audit, name="audit"),
    path("review/verifications/audit.csv", views.audit_csv, name="audit_csv"),
    # Invitations (accounts/invitation_views.py)
    path("invites/<str:token>", invitation_views.accept, name="invitation"),
    path("invites/<str:token>/new-link", invitation_views.new_link, name="invitation_new_link"),
    path("review/invitations", invitation_views.invitation_list, name="invitations"),
    path("review/invitations.csv", invitation_views.invitation_csv, name="invitations_csv"),
    path("review/invitations/new", invitation_views.invite, name="invite"),
    path("review/invitations/<int:pk>", invitation_views.invitation_act, name="invitation_act"),
    path("sign-in-link", invitation_views.sign_in_link, name="sign_in_link"),
    path("sign-in-link/<str:token>", invitation_views.sign_in_link_use, name="sign_in_link_use"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/new", views.organisation_create, name="organisation_create"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<slug:slug>/edit", views.organisation_edit, name="organisation_edit"),
]
