import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the dev server at start (`--search-attribute`), so the Temporal UI can
// filter "all cycles of agent X waiting for approval".
export const FlywheelAgent = defineSearchAttributeKey('FlywheelAgent', SearchAttributeType.KEYWORD);
export const FlywheelStage = defineSearchAttributeKey('FlywheelStage', SearchAttributeType.KEYWORD);
export const FlywheelOutcome = defineSearchAttributeKey('FlywheelOutcome', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [FlywheelAgent, FlywheelStage, FlywheelOutcome] as const;
