import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
} from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { moveItem } from "~/models/ranking";

export type RankingTopic = { id: string; title: string; description: string; supervisor: string; capacity: number };

type Move = { topicId: string; to: number | null };

type Shared = {
  topics: Map<string, RankingTopic>;
  readOnly: boolean;
  /** Slot beside each topic for information another part of the page provides (e.g. live metrics). */
  renderTopicExtra?: (topicId: string) => ReactNode;
};

/**
 * The student's ranked topics (a sortable list) and the topics not in it.
 * Every change goes through `onChange` with the whole new order, and is
 * announced to screen readers.
 */
export function RankingList({
  order,
  onChange,
  topics,
  readOnly,
  renderTopicExtra,
}: Shared & { order: string[]; onChange: (order: string[]) => void }) {
  const [announcement, setAnnouncement] = useState("");
  const focusAfterRender = useRef<string | null>(null);
  const container = useRef<HTMLDivElement>(null);
  const sensors = useSensors(
    // A few pixels of travel before a drag starts, so the buttons stay clickable.
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const title = (topicId: string | number) => topics.get(String(topicId))?.title ?? "topic";
  // An order restored from an old draft may name a topic this page does not know; the server refuses it.
  const shown = order.filter((topicId) => topics.has(topicId));
  const unranked = [...topics.values()].filter((topic) => !order.includes(topic.id));

  useEffect(() => {
    const target = focusAfterRender.current;
    if (!target) return;
    focusAfterRender.current = null;
    container.current?.querySelector<HTMLElement>(`[data-focus-key="${target}"]`)?.focus();
  });

  function apply({ topicId, to }: Move, focusKey: string | null) {
    const from = order.indexOf(topicId);
    let next: string[];
    let message: string;
    if (to === null) {
      next = order.filter((id) => id !== topicId);
      message = `Removed ${title(topicId)} from your list. ${next.length} topics ranked.`;
    } else if (from === -1) {
      next = [...order.slice(0, to), topicId, ...order.slice(to)];
      message = `Added ${title(topicId)} to your list at position ${to + 1} of ${next.length}.`;
    } else {
      if (from === to) return;
      next = moveItem(order, from, to);
      message = `Moved ${title(topicId)} to position ${to + 1} of ${next.length}.`;
    }
    focusAfterRender.current = focusKey;
    setAnnouncement(message);
    onChange(next);
  }

  function onDragEnd({ active, over }: DragEndEvent) {
    if (!over || active.id === over.id) return;
    apply({ topicId: String(active.id), to: order.indexOf(String(over.id)) }, null);
  }

  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${title(active.id)} at position ${order.indexOf(String(active.id)) + 1}.`,
    onDragOver: ({ active, over }) =>
      over ? `${title(active.id)} is over position ${order.indexOf(String(over.id)) + 1}.` : `${title(active.id)} is outside the list.`,
    onDragEnd: ({ active, over }) =>
      over
        ? `Dropped ${title(active.id)} at position ${order.indexOf(String(over.id)) + 1}.`
        : `Dropped ${title(active.id)}; the order did not change.`,
    onDragCancel: ({ active }) => `Stopped moving ${title(active.id)}; the order did not change.`,
  };

  return (
    <div ref={container} className="space-y-6">
      <p aria-live="polite" aria-atomic="true" className="sr-only" data-testid="ranking-announcement">
        {announcement}
      </p>
      <section aria-labelledby="my-ranking-heading" className="card">
        <h2 id="my-ranking-heading" className="text-lg font-semibold">
          My ranking ({order.length} of {topics.size})
        </h2>
        {!readOnly ? (
          <p id="ranking-help" className="mt-1 text-sm text-slate-600">
            Drag a topic by its handle, or use its buttons: move up, move down, move to the top, or remove it from your
            list. With the keyboard, Space on a handle picks a topic up, the arrow keys move it and Space drops it.
          </p>
        ) : null}
        {order.length === 0 ? (
          <p className="mt-3 text-slate-600">You have not ranked any topic yet. Add topics from the list below.</p>
        ) : (
          <DndContext
            id="ranking-dnd"
            sensors={sensors}
            collisionDetection={closestCenter}
            onDragEnd={onDragEnd}
            accessibility={{
              announcements,
              screenReaderInstructions: {
                draggable:
                  "To pick up a topic, press Space or Enter. Move it with the arrow keys, press Space or Enter again to drop it, or Escape to cancel.",
              },
            }}
          >
            <SortableContext items={order} strategy={verticalListSortingStrategy} disabled={readOnly}>
              <ol className="mt-3 space-y-2" data-testid="my-ranking">
                {shown.map((topicId, index) => (
                  <RankedTopic
                    key={topicId}
                    topic={topics.get(topicId)!}
                    position={index + 1}
                    total={shown.length}
                    readOnly={readOnly}
                    renderTopicExtra={renderTopicExtra}
                    onMove={(to, focusKey) => apply({ topicId, to }, focusKey)}
                  />
                ))}
              </ol>
            </SortableContext>
          </DndContext>
        )}
      </section>
      {unranked.length > 0 ? (
        <section aria-labelledby="other-topics-heading" className="card">
          <h2 id="other-topics-heading" className="text-lg font-semibold">
            Topics not in my list ({unranked.length})
          </h2>
          <ul className="mt-3 grid gap-2 sm:grid-cols-2" data-testid="unranked-topics">
            {unranked.map((topic) => (
              <li key={topic.id} className="rounded border border-slate-200 p-3" data-topic-id={topic.id}>
                <TopicDetails topic={topic} extra={renderTopicExtra?.(topic.id)} />
                {!readOnly ? (
                  <button
                    type="button"
                    className="btn-secondary mt-2 py-1"
                    data-focus-key={`add-${topic.id}`}
                    aria-label={`Add to my list: ${topic.title}`}
                    onClick={() => apply({ topicId: topic.id, to: order.length }, `handle-${topic.id}`)}
                  >
                    Add to my list
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function RankedTopic({
  topic,
  position,
  total,
  readOnly,
  renderTopicExtra,
  onMove,
}: {
  topic: RankingTopic;
  position: number;
  total: number;
  readOnly: boolean;
  renderTopicExtra?: (topicId: string) => ReactNode;
  onMove: (to: number | null, focusKey: string | null) => void;
}) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: topic.id,
    disabled: readOnly,
  });
  const index = position - 1;
  return (
    <li
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      className={`flex items-start gap-3 rounded border bg-white px-3 py-2 ${isDragging ? "relative z-10 border-indigo-400 shadow-lg" : "border-slate-200"}`}
      data-topic-id={topic.id}
    >
      {!readOnly ? (
        <button
          type="button"
          ref={setActivatorNodeRef}
          {...attributes}
          {...listeners}
          data-focus-key={`handle-${topic.id}`}
          aria-label={`Reorder ${topic.title}, position ${position} of ${total}`}
          className="mt-0.5 cursor-grab touch-none rounded px-1 text-slate-400 hover:text-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600"
          data-testid="drag-handle"
        >
          <span aria-hidden="true">⠿</span>
        </button>
      ) : null}
      <span className="w-6 shrink-0 text-right font-semibold tabular-nums text-indigo-700" aria-hidden="true">
        {position}
      </span>
      <div className="min-w-0 flex-1">
        <TopicDetails topic={topic} extra={renderTopicExtra?.(topic.id)} />
      </div>
      {!readOnly ? (
        <div className="flex shrink-0 flex-wrap justify-end gap-1" role="group" aria-label={`Move ${topic.title}`}>
          <MoveButton label="Move up" symbol="↑" topic={topic} disabled={index === 0} focusKey={`up-${topic.id}`} onClick={(key) => onMove(index - 1, key)} />
          <MoveButton label="Move down" symbol="↓" topic={topic} disabled={index === total - 1} focusKey={`down-${topic.id}`} onClick={(key) => onMove(index + 1, key)} />
          <MoveButton label="Move to top" symbol="⤒" topic={topic} disabled={index === 0} focusKey={`top-${topic.id}`} onClick={() => onMove(0, `handle-${topic.id}`)} />
          <MoveButton label="Remove from my list" symbol="✕" topic={topic} disabled={false} focusKey={`remove-${topic.id}`} onClick={() => onMove(null, `add-${topic.id}`)} />
        </div>
      ) : null}
    </li>
  );
}

function MoveButton({
  label,
  symbol,
  topic,
  disabled,
  focusKey,
  onClick,
}: {
  label: string;
  symbol: string;
  topic: RankingTopic;
  disabled: boolean;
  focusKey: string;
  onClick: (focusKey: string) => void;
}) {
  // aria-disabled rather than disabled: a disabled button drops keyboard
  // focus, and a student moving a topic to the top would lose their place.
  return (
    <button
      type="button"
      className="rounded border border-slate-300 px-2 py-0.5 text-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 aria-disabled:cursor-not-allowed aria-disabled:opacity-40"
      aria-disabled={disabled || undefined}
      aria-label={`${label}: ${topic.title}`}
      title={label}
      data-focus-key={focusKey}
      onClick={() => {
        if (!disabled) onClick(focusKey);
      }}
    >
      <span aria-hidden="true">{symbol}</span>
    </button>
  );
}

function TopicDetails({ topic, extra }: { topic: RankingTopic; extra?: ReactNode }) {
  return (
    <div>
      <p className="font-medium" data-testid="topic-title">
        {topic.title}
      </p>
      <p className="text-sm text-slate-500">
        {topic.supervisor || "No supervisor named"} · {topic.capacity} {topic.capacity === 1 ? "place" : "places"}
      </p>
      {topic.description ? <p className="mt-1 line-clamp-2 text-sm text-slate-600">{topic.description}</p> : null}
      {extra}
    </div>
  );
}
