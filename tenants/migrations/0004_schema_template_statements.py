"""Schema templates keep one statement per element instead of one script.

Templates are a cache, captured again on first use, so the old ones are dropped rather
than split: their migration state no longer exists anyway (the migrations that build a
network schema changed with this one)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_console_billing_domains")]

    operations = [
        migrations.RunSQL(["DELETE FROM tenants_schematemplate"], migrations.RunSQL.noop),
        migrations.RemoveField(model_name="schematemplate", name="sql"),
        migrations.AddField(
            model_name="schematemplate",
            name="statements",
            field=models.JSONField(default=list, help_text="One SQL statement per element."),
        ),
    ]
