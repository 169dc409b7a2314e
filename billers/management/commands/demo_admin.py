import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from icintegrations.demo import demo_only


class Command(BaseCommand):
    help = "Demo only: create (or reset) the superuser 'demo' with a fresh password and print it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username, **options):
        demo_only("demo_admin", what=f"make {username!r} a superuser with a new password")
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Demo admin login: {username} / {password}")
