#include "tests/tools/loadgen/faulty_echo.h"

#include <memory>
#include <string>
#include <string_view>

#include "core/protocol.h"
#include "tests/support/echo_wire.h"

namespace shoal::testing {

namespace {

// Echo with one deliberate fault per connection.
class FaultySession final : public core::Session {
 public:
  FaultySession(core::SessionContext& connection, Fault fault, uint64_t fault_frame,
                std::atomic<uint64_t>& frames)
      : Session(connection), fault_(fault), fault_frame_(fault_frame), frames_(frames) {}

  size_t OnData(std::string_view input) override {
    size_t position = 0;
    while (input.size() - position >= 4) {
      const size_t length = DecodeFrameLength(input.substr(position, 4));
      if (input.size() - position - 4 < length) break;
      std::string_view frame = input.substr(position, 4 + length);
      position += 4 + length;
      frames_.fetch_add(1, std::memory_order_relaxed);
      const uint64_t index = next_frame_++;
      connection().CountRequests(1);
      if (fault_ == Fault::kDropAt && index == fault_frame_) {
        connection().Close(core::CloseReason::kShutdown);
        return input.size();
      }
      if (fault_ == Fault::kReplayFirst) {
        if (index == 0) first_.assign(frame);
        connection().Send(first_);
      } else if (fault_ == Fault::kCorruptByte && index == fault_frame_ && length > 0) {
        std::string corrupted(frame);
        corrupted.back() = static_cast<char>(corrupted.back() ^ 0x01);
        connection().Send(corrupted);
      } else if (fault_ == Fault::kSwapFrames && index == fault_frame_) {
        held_.assign(frame);  // answered after the next frame
      } else {
        connection().Send(frame);
        if (!held_.empty()) {
          connection().Send(held_);
          held_.clear();
        }
      }
    }
    return position;
  }

  bool RequestInProgress() const override { return false; }

 private:
  Fault fault_;
  uint64_t fault_frame_;
  std::atomic<uint64_t>& frames_;
  uint64_t next_frame_ = 0;
  std::string held_;
  std::string first_;
};

class FaultyProtocol final : public core::Protocol {
 public:
  FaultyProtocol(Fault fault, uint64_t fault_frame, std::atomic<uint64_t>& frames,
                 std::atomic<uint64_t>& sessions)
      : fault_(fault), fault_frame_(fault_frame), frames_(frames), sessions_(sessions) {}
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override {
    sessions_.fetch_add(1);
    return std::make_unique<FaultySession>(connection, fault_, fault_frame_, frames_);
  }

 private:
  Fault fault_;
  uint64_t fault_frame_;
  std::atomic<uint64_t>& frames_;
  std::atomic<uint64_t>& sessions_;
};

}  // namespace

core::ProtocolFactory FaultyEcho::factory() {
  return [this](size_t, int) {
    return std::make_unique<FaultyProtocol>(fault_, fault_frame_, frames_, sessions_);
  };
}

}  // namespace shoal::testing
