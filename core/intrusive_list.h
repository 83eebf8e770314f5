// A minimal intrusive doubly-linked list. An element derives from IntrusiveListNode<Tag> once per
// list it can be in; membership costs no allocation, and Remove is O(1) (call it on the list the
// element is in). Not thread-safe: a list
// and its elements belong to one thread. An element must be removed before it is destroyed.
#ifndef SHOAL_CORE_INTRUSIVE_LIST_H_
#define SHOAL_CORE_INTRUSIVE_LIST_H_

#include <cstddef>

namespace shoal::core {

template <typename Tag>
class IntrusiveListNode {
 public:
  IntrusiveListNode() = default;
  IntrusiveListNode(const IntrusiveListNode&) = delete;
  IntrusiveListNode& operator=(const IntrusiveListNode&) = delete;

  bool linked() const { return next_ != nullptr; }

 private:
  template <typename T, typename U>
  friend class IntrusiveList;
  IntrusiveListNode* prev_ = nullptr;
  IntrusiveListNode* next_ = nullptr;
};

template <typename T, typename Tag>
class IntrusiveList {
  using Node = IntrusiveListNode<Tag>;

 public:
  IntrusiveList() { head_.prev_ = head_.next_ = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next_ == &head_; }
  size_t size() const { return size_; }

  void PushBack(T* element) {
    Node* node = static_cast<Node*>(element);
    node->prev_ = head_.prev_;
    node->next_ = &head_;
    head_.prev_->next_ = node;
    head_.prev_ = node;
    ++size_;
  }

  void Remove(T* element) {
    Node* node = static_cast<Node*>(element);
    if (!node->linked()) return;
    node->prev_->next_ = node->next_;
    node->next_->prev_ = node->prev_;
    node->prev_ = node->next_ = nullptr;
    --size_;
  }

  T* Front() const { return empty() ? nullptr : static_cast<T*>(head_.next_); }

  T* PopFront() {
    T* element = Front();
    if (element != nullptr) Remove(element);
    return element;
  }

  // Calls fn(T*) for each element; fn must not remove elements other than the one it is given.
  template <typename Fn>
  void ForEach(Fn fn) {
    Node* node = head_.next_;
    while (node != &head_) {
      Node* next = node->next_;
      fn(static_cast<T*>(node));
      node = next;
    }
  }

 private:
  Node head_;
  size_t size_ = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_INTRUSIVE_LIST_H_
