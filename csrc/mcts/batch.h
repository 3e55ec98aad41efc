// Many independent roots at once: one searcher (and arena) per thread, one random stream per root,
// so results do not depend on the number of threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "search.h"

namespace rqlbench::mcts {

template <class Model>
std::vector<SearchResult> search_batch(Model& model,
                                       const std::vector<typename Model::State>& roots,
                                       const Config& config, int num_threads) {
  std::vector<SearchResult> results(roots.size());
  if (num_threads <= 0) num_threads = static_cast<int>(std::thread::hardware_concurrency());
  num_threads = std::max(1, std::min<int>(num_threads, static_cast<int>(roots.size())));
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    try {
      Searcher<Model> searcher(model, config);
      for (size_t i = next++; i < roots.size(); i = next++) results[i] = searcher.run(roots[i], i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = roots.size();
    }
  };
  if (num_threads == 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < num_threads; ++t) threads.emplace_back(worker);
    for (auto& thread : threads) thread.join();
  }
  if (error) std::rethrow_exception(error);
  return results;
}

}  // namespace rqlbench::mcts
