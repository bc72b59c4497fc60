#pragma once
// Background batch preparation: worker threads build the batches of upcoming steps into a bounded window,
// and the training loop takes them in step order. A batch depends only on its step (see seeding.h), so the
// thread timing never changes what is trained on.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace pgl::train {

template <class Batch>
class Prefetcher {
 public:
  using MakeBatch = std::function<Batch(int64_t step)>;

  // Steps first_step .. end_step - 1; at most `depth` batches ready or in flight ahead of the consumer.
  Prefetcher(MakeBatch make, int64_t first_step, int64_t end_step, int workers, int depth)
      : make_(std::move(make)),
        next_claim_(first_step),
        next_take_(first_step),
        end_(end_step),
        depth_(std::max(1, depth)) {
    for (int w = 0; w < std::max(1, workers); ++w) threads_.emplace_back([this] { work(); });
  }

  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // The batch of the next step; `wait_seconds` receives how long the caller waited for it.
  Batch next(double* wait_seconds = nullptr) {
    auto start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    if (next_take_ >= end_) throw std::logic_error("Prefetcher::next called past the last step");
    changed_.wait(lock, [&] { return ready_.count(next_take_) || error_; });
    if (error_) std::rethrow_exception(error_);
    Batch b = std::move(ready_[next_take_]);
    ready_.erase(next_take_++);
    lock.unlock();
    changed_.notify_all();
    if (wait_seconds)
      *wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return b;
  }

 private:
  void work() {
    for (;;) {
      int64_t step;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] {
          return stop_ || error_ || (next_claim_ < end_ && next_claim_ < next_take_ + depth_);
        });
        if (stop_ || error_) return;
        step = next_claim_++;
      }
      try {
        Batch b = make_(step);
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.emplace(step, std::move(b));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      changed_.notify_all();
    }
  }

  MakeBatch make_;
  int64_t next_claim_, next_take_, end_, depth_;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::thread> threads_;
};

}  // namespace pgl::train
