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
        ('giving', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='gift',
                    name='actor',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='gifts_made', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # gift_actor_recent_idx leads with actor_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS giving_gift_actor_id_ade3b9ee',
                    reverse_sql='CREATE INDEX IF NOT EXISTS giving_gift_actor_id_ade3b9ee ON giving_gift (actor_id)',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='gift',
                    name='recipient',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='gifts_received', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # gift_recipient_recent_idx leads with recipient_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS giving_gift_recipient_id_bf6e755e',
                    reverse_sql='CREATE INDEX IF NOT EXISTS giving_gift_recipient_id_bf6e755e ON giving_gift (recipient_id)',
                ),
            ],
        ),
    ]
