// Waiting for SIGINT / SIGTERM in main, the way a node process shuts down.
#pragma once

namespace nanocaf {

/// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards.
/// Call first thing in main, before any thread exists.
void block_shutdown_signals();

/// Waits until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_shutdown_signal();

} // namespace nanocaf
