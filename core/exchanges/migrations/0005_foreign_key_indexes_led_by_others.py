"""Foreign keys whose column leads another index of the same table lose their own
index (issue 14: catalog cost per network); the other index serves every lookup by that
column, the foreign key's cascades included.

The indexes are dropped by name, not by AlterField's database step: that step finds the
index to drop by introspecting the schema, and `hexitime tenants migrate` writes a plan's
SQL out before running any of it, so in a plan that also creates the table (a schema
rolled back further) it would find nothing and drop nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exchanges', '0004_safeguarding_hidden_messages'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='thanks',
                    name='exchange',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='thanks', to='exchanges.exchange'),
                ),
            ],
            database_operations=[
                # thanks_once_per_side leads with exchange_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS exchanges_thanks_exchange_id_856df52c',
                    reverse_sql='CREATE INDEX IF NOT EXISTS exchanges_thanks_exchange_id_856df52c ON exchanges_thanks (exchange_id)',
                ),
            ],
        ),
    ]
