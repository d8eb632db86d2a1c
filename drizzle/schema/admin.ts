import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./index";

/**
 * One-time sign-in codes for imported students. Only a SHA-256 of the code is
 * kept: the codes are random (60 bits), so a slow hash adds nothing, and the
 * plaintext is shown to the admin once, right after the import.
 */
export const studentInvitations = pgTable(
  "student_invitations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("student_invitations_user_idx").on(t.userId)],
);
