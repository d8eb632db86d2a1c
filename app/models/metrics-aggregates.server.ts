import { DirectAggregate } from "../aggregate";

/**
 * Trend points: one per recompute (namespace topic id, key time in ms, id the
 * recompute id). Channels [average × 1000, 1] let one bounded sum give a
 * bucket's mean without reading its points.
 */
export const topicEvents = new DirectAggregate({ name: "topicEvents", channels: 2 });

/**
 * Every ranked topic of a period ordered by its stored average (key: average
 * × 1e6, id topic id), so "how many topics are less contested" is one
 * bounded count instead of a scan of the period.
 */
export const topicAveragesByPeriod = new DirectAggregate({ name: "topicAveragesByPeriod", channels: 1 });

export const TREND_SCALE = 1_000;
