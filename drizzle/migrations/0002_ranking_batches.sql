CREATE TABLE "ranking_batches" (
	"batch_id" uuid PRIMARY KEY NOT NULL,
	"student_id" uuid NOT NULL,
	"period_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"version" integer NOT NULL,
	"changes" jsonb NOT NULL,
	"undone_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ranking_states" (
	"student_id" uuid NOT NULL,
	"period_id" uuid NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "ranking_states_student_id_period_id_pk" PRIMARY KEY("student_id","period_id")
);
--> statement-breakpoint
ALTER TABLE "ranking_batches" ADD CONSTRAINT "ranking_batches_student_id_users_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ranking_batches" ADD CONSTRAINT "ranking_batches_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ranking_states" ADD CONSTRAINT "ranking_states_student_id_users_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ranking_states" ADD CONSTRAINT "ranking_states_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ranking_batches_student_idx" ON "ranking_batches" USING btree ("student_id","period_id","version");