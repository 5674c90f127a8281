import pytest
from allauth.mfa.models import Authenticator

from accounts import permissions
from tests.conftest import ROLES, make_user


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_the_permissions_its_name_promises(role):
    user = make_user(role)
    if user is None:
        return
    assert permissions.can_participate(user) is (role in {"verified", "moderator", "staff"})
    assert permissions.is_moderator(user) is (role in {"moderator", "staff"})
    if role in {"moderator", "staff"}:
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
