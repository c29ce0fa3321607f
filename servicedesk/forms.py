"""Form helpers every app's views share (base: imports no app)."""


def add_errors(form, exc):
    """Show a service's ValidationError on the form: each field's errors beside that field, the rest (and errors
    naming a field the form does not have) at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
