/**
 * An in-memory {@link dev.relay.api.TaskQueue} with the full lease semantics, for tests, simulations and
 * embedding where durability across process restarts is not needed.
 */
package dev.relay.inmemory;
