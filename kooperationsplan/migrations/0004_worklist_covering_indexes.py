"""Covering indexes for the worklist's per-case look-ups (docs/decisions/0009).

The foreign-key indexes on kooperationsplan.case and eigenbemuehung.plan are replaced by indexes on the same
column that also carry what the worklist reads (index-only scans). The old indexes are dropped by name, after the
new ones exist: Django's own AlterField(db_index=False) would drop every single-column index on the column, and
with them the partial unique indexes kp_one_current_per_case and kp_one_draft_per_case (tests/kooperationsplan/
test_constraints.py).
"""

import django.db.models.deletion
from django.db import migrations, models

KP_CASE_FK_INDEX = "kooperationsplan_kooperationsplan_case_id_99bcef50"
EB_PLAN_FK_INDEX = "kooperationsplan_eigenbemuehung_plan_id_95e00283"


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_open_by_ifk_index"),
        ("kooperationsplan", "0003_nightly_reminders_digest_and_absence_cover"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="eigenbemuehung",
            index=models.Index(fields=["plan"], include=("id",), name="eb_plan_idx"),
        ),
        migrations.AddIndex(
            model_name="eigenbemuehungnachweis",
            index=models.Index(
                condition=models.Q(("received_on__isnull", True)),
                fields=["eigenbemuehung", "due_on"],
                include=("id", "period_start", "period_end"),
                name="nachweis_open_by_eb_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="kooperationsplan",
            index=models.Index(
                fields=["case"], include=("id", "status", "review_due", "version_number"), name="kp_case_idx"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="eigenbemuehung",
                    name="plan",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="eigenbemuehungen",
                        to="kooperationsplan.kooperationsplan",
                    ),
                ),
                migrations.AlterField(
                    model_name="kooperationsplan",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plans",
                        to="cases.case",
                        verbose_name="Fall",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX "{EB_PLAN_FK_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{EB_PLAN_FK_INDEX}" ON "kooperationsplan_eigenbemuehung" ("plan_id")',
                ),
                migrations.RunSQL(
                    f'DROP INDEX "{KP_CASE_FK_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{KP_CASE_FK_INDEX}" ON "kooperationsplan_kooperationsplan" ("case_id")',
                ),
            ],
        ),
    ]
