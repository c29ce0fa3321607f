"""How a person is shown: by their full name, everywhere but where one logs in (the user name is a login, not a
name a colleague or a customer recognises: "owner tech6" says nothing).

One mechanism for every place Django itself names a user: `str(user)` is the full name (installed by
ServicedeskConfig.ready), so admin lists and selects, model choice fields and filters, and `{{ user }}` in a template
all say "Tom Alvarez". Reads that never load a user (SQL-built notification texts, CSV exports from value rows) use
`full_name_sql`, the same rule in the database.
"""

from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim


def full_name(user):
    """The user's full name, or the user name for an account that has none (a service account)."""
    return user.get_full_name() or user.get_username()


def full_name_sql(path=""):
    """`full_name` as an expression over the user at `path` ("owner", "job__lead_technician"; "" for a user row)."""
    prefix = f"{path}__" if path else ""
    return Coalesce(
        NullIf(Trim(Concat(F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name"), output_field=CharField())),
               Value("")),
        F(f"{prefix}username"),
        output_field=CharField(),
    )


def name_choices(users):
    """(id, full name) pairs of a user queryset, for a choice filter: reads three columns, builds no user objects."""
    return [
        (pk, f"{first} {last}".strip() or username)
        for pk, first, last, username in users.values_list("pk", "first_name", "last_name", "username")
    ]


def show_users_by_full_name():
    get_user_model().__str__ = full_name
