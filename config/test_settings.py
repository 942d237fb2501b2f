"""Settings for the test suite: production settings with test-only conveniences."""

import os

os.environ.setdefault("DJANGO_TESTING", "1")

from config.settings import *  # noqa: F403

# Fast hashing: tests create many users; the production hasher stays PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
