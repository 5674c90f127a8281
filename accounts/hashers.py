"""How passwords are kept: Argon2id at the parameters OWASP's Password Storage Cheat Sheet gives
first (19 MiB of memory, 2 passes, 1 lane).

Signing in is the costliest request a person makes, and at a webinar launch hundreds of officials
sign in within minutes on the same two cores that serve the pages. Django's default, PBKDF2 with
1,000,000 iterations, costs about 250 ms of CPU per sign-in here; this costs about 33 ms, and being
memory-hard it resists guessing on graphics cards better than PBKDF2 does. Passwords kept with
an earlier hasher (settings.PASSWORD_HASHERS lists them after this one) still sign in, and Django
keeps them anew with this one at that sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (Argon2id, the parameters in each hash) with OWASP's parameters."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
