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
        ('members', '0012_language'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='block',
                    name='blocked',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # block_blocked_idx leads with blocked_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS members_block_blocked_id_401841f5',
                    reverse_sql='CREATE INDEX IF NOT EXISTS members_block_blocked_id_401841f5 ON members_block (blocked_id)',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='block',
                    name='blocker',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='blocks_made', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                # block_once leads with blocker_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS members_block_blocker_id_1cf34a66',
                    reverse_sql='CREATE INDEX IF NOT EXISTS members_block_blocker_id_1cf34a66 ON members_block (blocker_id)',
                ),
            ],
        ),
    ]
