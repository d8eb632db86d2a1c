CREATE TYPE "public"."assignment_objective" AS ENUM('linear', 'generous', 'rank-maximal');--> statement-breakpoint
CREATE TYPE "public"."assignment_run_status" AS ENUM('queued', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."unassigned_policy" AS ENUM('leave', 'any-free-seat');--> statement-breakpoint
CREATE TABLE "assignment_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"period_id" uuid NOT NULL,
	"objective" "assignment_objective" NOT NULL,
	"seed" integer NOT NULL,
	"unassigned_policy" "unassigned_policy" NOT NULL,
	"input_hash" text,
	"status" "assignment_run_status" DEFAULT 'queued' NOT NULL,
	"stage" text DEFAULT 'queued' NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"profile" jsonb,
	"objective_value" text,
	"student_count" integer,
	"unassigned_count" integer,
	"error" text,
	"requested_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"published_at" timestamp with time zone,
	CONSTRAINT "assignment_runs_progress_range" CHECK ("assignment_runs"."progress" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "assignments" (
	"run_id" uuid NOT NULL,
	"student_id" uuid NOT NULL,
	"topic_id" uuid,
	"rank" integer,
	"overridden" boolean DEFAULT false NOT NULL,
	"override_reason" text,
	"overridden_by" uuid,
	"overridden_at" timestamp with time zone,
	CONSTRAINT "assignments_run_id_student_id_pk" PRIMARY KEY("run_id","student_id"),
	CONSTRAINT "assignments_rank_positive" CHECK ("assignments"."rank" is null or "assignments"."rank" >= 1),
	CONSTRAINT "assignments_rank_needs_topic" CHECK ("assignments"."rank" is null or "assignments"."topic_id" is not null),
	CONSTRAINT "assignments_override_has_reason" CHECK (not "assignments"."overridden" or "assignments"."override_reason" is not null)
);
--> statement-breakpoint
ALTER TABLE "assignment_runs" ADD CONSTRAINT "assignment_runs_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignment_runs" ADD CONSTRAINT "assignment_runs_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_run_id_assignment_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."assignment_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_student_id_users_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_topic_id_topics_id_fk" FOREIGN KEY ("topic_id") REFERENCES "public"."topics"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_overridden_by_users_id_fk" FOREIGN KEY ("overridden_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assignment_runs_period_idx" ON "assignment_runs" USING btree ("period_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "assignment_runs_one_published_key" ON "assignment_runs" USING btree ("period_id") WHERE "assignment_runs"."published_at" is not null;--> statement-breakpoint
CREATE INDEX "assignments_run_topic_idx" ON "assignments" USING btree ("run_id","topic_id");--> statement-breakpoint
CREATE INDEX "assignments_student_idx" ON "assignments" USING btree ("student_id");