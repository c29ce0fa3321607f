"""Roles are Django groups (created by a migration); this module is the one place that names them.

It imports no app of the project, so every app may use it.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied

CSR = "CSR"
MANAGER = "Manager"
TECHNICIAN = "Technician"
SALES = "Sales"
ALL_ROLES = (CSR, MANAGER, TECHNICIAN, SALES)
# Who works the office side of the desk: customers, jobs, callbacks, calls.
OFFICE = (CSR, MANAGER)


def roles_of(user):
    """The set of role names the user holds, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_servicedesk_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names.add(MANAGER)
        cached = frozenset(names & set(ALL_ROLES))
        user._servicedesk_roles = cached
    return cached


def has_role(user, *roles):
    return bool(roles_of(user) & set(roles))


def is_office(user):
    return has_role(user, *OFFICE)


def role_required(*roles):
    """View decorator: 403 unless the logged-in user holds one of the roles.

    Login itself is required for every page by LoginRequiredMiddleware.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def context_processor(request):
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else frozenset()
    return {
        "roles": roles,
        "is_csr": CSR in roles,
        "is_manager": MANAGER in roles,
        "is_technician": TECHNICIAN in roles,
        "is_sales": SALES in roles,
        "is_office": bool(roles & set(OFFICE)),
    }
