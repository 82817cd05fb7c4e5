"""Today's Five Safes form becomes the default template (``requests_app/five_safes.py``)."""

from django.db import migrations

from requests_app.five_safes import ensure_default_template


def create(apps, schema_editor):
    ensure_default_template(
        apps.get_model("requests_app", "FormTemplate"),
        apps.get_model("requests_app", "FormSection"),
        apps.get_model("requests_app", "FormQuestion"),
        apps.get_model("requests_app", "Submission"),
    )


def remove(apps, schema_editor):
    apps.get_model("requests_app", "FormTemplate").objects.filter(key="five-safes").delete()


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0003_form_templates")]
    operations = [migrations.RunPython(create, remove)]
