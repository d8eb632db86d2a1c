CREATE TABLE "consistency_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"period_id" uuid,
	"trigger" text NOT NULL,
	"differences" integer NOT NULL,
	"invalid_trees" integer NOT NULL,
	"repaired" integer NOT NULL,
	"remaining" integer NOT NULL,
	"stale_topics" integer NOT NULL,
	"report" jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "preference_backfills" (
	"student_id" uuid NOT NULL,
	"period_id" uuid NOT NULL,
	"last_updated" timestamp (6) with time zone NOT NULL,
	"outcome" text NOT NULL,
	"batch_id" uuid,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "preference_backfills_student_id_period_id_pk" PRIMARY KEY("student_id","period_id")
);
--> statement-breakpoint
ALTER TABLE "preference_backfills" ADD CONSTRAINT "preference_backfills_student_id_users_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "preference_backfills" ADD CONSTRAINT "preference_backfills_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consistency_runs_finished_idx" ON "consistency_runs" USING btree ("finished_at");