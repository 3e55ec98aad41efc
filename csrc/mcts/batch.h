// Many independent roots at once: one searcher (and arena) per thread, one random stream per root,
// so results do not depend on the number of threads. The calling thread works too, and only it
// runs `interrupt_check` (signals reach the main thread only).
//
// Thread safety: all threads share the one model, through a const reference. A native model must
// therefore be safe to call concurrently: its members are const (checked at compile time) and it
// has no shared mutable state (caches, counters, a random generator) unless that state is
// synchronized. Randomness belongs in the seed that rollout() receives. Open-loop models hold one
// live simulator and are refused.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "search.h"

namespace rqlbench::mcts {

template <class Model>
std::vector<SearchResult> search_batch(const Model& model,
                                       const std::vector<typename Model::State>& roots,
                                       const Config& config, int num_threads,
                                       const std::function<void()>& interrupt_check = {},
                                       bool export_tree = false) {
  static_assert(is_search_model_v<const Model>,
                "search_batch shares one model between threads through a const reference: make "
                "its members const and safe to call concurrently (see batch.h)");
  static_assert(!Model::kOpenLoop,
                "search_batch cannot share an open-loop model (one live simulator) between "
                "threads: search its roots one after another");
  std::vector<SearchResult> results(roots.size());
  if (num_threads <= 0) num_threads = static_cast<int>(std::thread::hardware_concurrency());
  num_threads = std::max(1, std::min<int>(num_threads, static_cast<int>(roots.size())));
  struct Cancelled {};  // thrown into the other workers once one has failed
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](bool calling_thread) {
    try {
      Searcher<const Model> searcher(model, config);
      searcher.set_interrupt_check([&] {
        if (calling_thread && interrupt_check) interrupt_check();
        if (failed) throw Cancelled{};
      });
      for (size_t i = next++; i < roots.size() && !failed; i = next++) {
        results[i] = searcher.run(roots[i], i, export_tree);
      }
    } catch (const Cancelled&) {
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < num_threads; ++t) helpers.emplace_back(worker, false);
  worker(true);
  for (auto& thread : helpers) thread.join();
  if (error) std::rethrow_exception(error);
  return results;
}

}  // namespace rqlbench::mcts
