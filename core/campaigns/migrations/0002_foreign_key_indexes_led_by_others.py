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
        ('campaigns', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='campaignitem',
                    name='campaign',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='items', to='campaigns.campaign'),
                ),
            ],
            database_operations=[
                # the campaign_item_*_once constraints leads with campaign_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS campaigns_campaignitem_campaign_id_0c519e95',
                    reverse_sql='CREATE INDEX IF NOT EXISTS campaigns_campaignitem_campaign_id_0c519e95 ON campaigns_campaignitem (campaign_id)',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='campaignmember',
                    name='campaign',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='members', to='campaigns.campaign'),
                ),
            ],
            database_operations=[
                # campaign_member_once leads with campaign_id
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS campaigns_campaignmember_campaign_id_cf2ad1bc',
                    reverse_sql='CREATE INDEX IF NOT EXISTS campaigns_campaignmember_campaign_id_cf2ad1bc ON campaigns_campaignmember (campaign_id)',
                ),
            ],
        ),
    ]
