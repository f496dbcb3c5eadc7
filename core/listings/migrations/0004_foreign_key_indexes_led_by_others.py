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
        ('listings', '0003_matching'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='responseinvitation',
                    name='listing',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='listings.listing'),
                ),
            ],
            database_operations=[
                # response_invitation_once_per_member leads with listing_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS listings_responseinvitation_listing_id_3c81a277',
                    reverse_sql='CREATE INDEX IF NOT EXISTS listings_responseinvitation_listing_id_3c81a277 ON listings_responseinvitation (listing_id)',
                ),
            ],
        ),
    ]
