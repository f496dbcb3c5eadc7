"""The search index written through (`fastupdate = off`): with GIN's default, new entries
wait in a pending list that every search reads whole until a vacuum merges them. On the
pages bench's 10,000 listings, just loaded, the list held all of them: a broad search took
7 ms where the merged index takes 1. Listings are posted by people, a few a day; searches
are many, so each posting pays the index's update once instead."""

import django.contrib.postgres.indexes
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0004_foreign_key_indexes_led_by_others"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="listing", name="listing_search_idx"),
        migrations.AddIndex(
            model_name="listing",
            index=django.contrib.postgres.indexes.GinIndex(
                fastupdate=False, fields=["search_vector"], name="listing_search_idx"
            ),
        ),
    ]
