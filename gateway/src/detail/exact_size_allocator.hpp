// An allocator for Asio handlers that a connection or poller keeps pending all the time (a
// wait for readability): memory at the operation's own size, with one spare block per thread.
// Asio otherwise takes an operation's memory from a per-thread cache of recently freed blocks,
// whatever their size: the wait each idle connection keeps pending would hold the block of the
// accept before it (about 300 bytes). The spare block keeps the busy path (a wait ends, the
// next begins) free of malloc and free. Being per thread, it is safe whichever thread frees
// an operation, the io_context's destructor included.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace nanocaf::detail {

struct spare_handler_block {
  void* block = nullptr;
  std::size_t size = 0;
  ~spare_handler_block() { ::operator delete(block); } // at the thread's exit
};
inline thread_local spare_handler_block spare_handler_memory;

template <class T>
struct exact_size_allocator {
  using value_type = T;
  exact_size_allocator() noexcept = default;
  template <class U>
  exact_size_allocator(const exact_size_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    auto size = n * sizeof(T);
    auto& spare = spare_handler_memory;
    if (spare.block != nullptr && spare.size == size)
      return static_cast<T*>(std::exchange(spare.block, nullptr));
    return static_cast<T*>(::operator new(size));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    auto& spare = spare_handler_memory;
    if (spare.block == nullptr) {
      spare.block = p;
      spare.size = n * sizeof(T);
      return;
    }
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const exact_size_allocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const exact_size_allocator<U>&) const noexcept { return false; }
};

} // namespace nanocaf::detail
