/**
 * The fair scheduler and the relay engine.
 */
package dev.relay.core;
