"""Foreign keys whose column leads another index of the same table lose their own
index (issue 14: catalog cost per network); the other index serves every lookup by that
column, the foreign key's cascades included.

The indexes are dropped by name, not by AlterField's database step: that step finds the
index to drop by introspecting the schema, and `hexitime tenants migrate` writes a plan's
SQL out before running any of it, so in a plan that also creates the table (a schema
rolled back further) it would find nothing and drop nothing.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('idempotency', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='idempotentresponse',
                    name='member',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # idempotency_one_per_key leads with member_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS idempotency_idempotentresponse_member_id_9ccd8cf8',
                    reverse_sql='CREATE INDEX IF NOT EXISTS idempotency_idempotentresponse_member_id_9ccd8cf8 ON idempotency_idempotentresponse (member_id)',
                ),
            ],
        ),
    ]
