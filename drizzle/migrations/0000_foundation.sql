CREATE TYPE "public"."actor_type" AS ENUM('student', 'admin', 'system');--> statement-breakpoint
CREATE TYPE "public"."period_status" AS ENUM('draft', 'open', 'closed', 'assigned', 'published');--> statement-breakpoint
CREATE TYPE "public"."user_role" AS ENUM('student', 'admin');--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"actor_id" uuid,
	"actor_type" "actor_type" NOT NULL,
	"session_id" text,
	"period_id" uuid,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "login_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"client_address" text NOT NULL,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "preferences" (
	"student_id" uuid NOT NULL,
	"period_id" uuid NOT NULL,
	"topic_ids" uuid[] NOT NULL,
	"last_updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "preferences_student_id_period_id_pk" PRIMARY KEY("student_id","period_id")
);
--> statement-breakpoint
CREATE TABLE "rankings" (
	"student_id" uuid NOT NULL,
	"topic_id" uuid NOT NULL,
	"period_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"previous_position" integer,
	"session_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rankings_student_id_topic_id_pk" PRIMARY KEY("student_id","topic_id"),
	CONSTRAINT "rankings_position_positive" CHECK ("rankings"."position" >= 1)
);
--> statement-breakpoint
CREATE TABLE "selection_periods" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"status" "period_status" DEFAULT 'draft' NOT NULL,
	"opens_at" timestamp with time zone,
	"closes_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topic_metrics" (
	"topic_id" uuid PRIMARY KEY NOT NULL,
	"period_id" uuid NOT NULL,
	"student_count" integer DEFAULT 0 NOT NULL,
	"sum_of_positions" integer DEFAULT 0 NOT NULL,
	"sum_of_squares" integer DEFAULT 0 NOT NULL,
	"average_position" double precision,
	"standard_deviation" double precision,
	"distribution" integer[] DEFAULT '{0,0,0,0,0,0,0,0,0,0}' NOT NULL,
	"percentile" double precision,
	"competition_category" text,
	"top_three_count" integer DEFAULT 0 NOT NULL,
	"demand_ratio" double precision DEFAULT 0 NOT NULL,
	"last_calculated" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topics" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"period_id" uuid NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"supervisor" text DEFAULT '' NOT NULL,
	"capacity" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "topics_capacity_positive" CHECK ("topics"."capacity" >= 1)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"role" "user_role" DEFAULT 'student' NOT NULL,
	"password_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "preferences" ADD CONSTRAINT "preferences_student_id_users_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "preferences" ADD CONSTRAINT "preferences_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rankings" ADD CONSTRAINT "rankings_student_id_users_id_fk" FOREIGN KEY ("student_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rankings" ADD CONSTRAINT "rankings_topic_id_topics_id_fk" FOREIGN KEY ("topic_id") REFERENCES "public"."topics"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rankings" ADD CONSTRAINT "rankings_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_metrics" ADD CONSTRAINT "topic_metrics_topic_id_topics_id_fk" FOREIGN KEY ("topic_id") REFERENCES "public"."topics"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_metrics" ADD CONSTRAINT "topic_metrics_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topics" ADD CONSTRAINT "topics_period_id_selection_periods_id_fk" FOREIGN KEY ("period_id") REFERENCES "public"."selection_periods"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_type_idx" ON "events" USING btree ("type","id");--> statement-breakpoint
CREATE INDEX "events_actor_idx" ON "events" USING btree ("actor_id","id");--> statement-breakpoint
CREATE INDEX "events_period_idx" ON "events" USING btree ("period_id","id");--> statement-breakpoint
CREATE INDEX "events_created_idx" ON "events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "login_attempts_email_idx" ON "login_attempts" USING btree ("email","attempted_at");--> statement-breakpoint
CREATE INDEX "login_attempts_address_idx" ON "login_attempts" USING btree ("client_address","attempted_at");--> statement-breakpoint
CREATE INDEX "rankings_period_student_idx" ON "rankings" USING btree ("period_id","student_id","position");--> statement-breakpoint
CREATE INDEX "rankings_topic_position_idx" ON "rankings" USING btree ("topic_id","position");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "topics_period_idx" ON "topics" USING btree ("period_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));