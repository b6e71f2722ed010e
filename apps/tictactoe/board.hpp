// Tic-tac-toe's rules, apart from the servers that use them.
#pragma once

#include <array>
#include <string>

namespace tictactoe {

class board {
public:
  /// 'X', 'O' or '.' per cell, row by row: "X.O......"
  std::string cells() const { return {cells_.begin(), cells_.end()}; }
  char turn() const noexcept { return turn_; }
  /// Empty while the game goes on; otherwise "X", "O" or "draw".
  const std::string& result() const noexcept { return result_; }
  bool over() const noexcept { return !result_.empty(); }

  /// Plays `cell` (0-8) for `seat`; the reason it is refused, or empty when played.
  std::string play(char seat, int cell) {
    if (over())
      return "the game is over";
    if (seat != turn_)
      return "not your turn";
    if (cell < 0 || cell > 8)
      return "cell must be 0-8";
    if (cells_[static_cast<std::size_t>(cell)] != '.')
      return "cell taken";
    cells_[static_cast<std::size_t>(cell)] = seat;
    ++moves_;
    if (wins(seat))
      result_ = std::string(1, seat);
    else if (moves_ == 9)
      result_ = "draw";
    turn_ = turn_ == 'X' ? 'O' : 'X';
    return {};
  }
  /// `seat` gives up (left, or let its turn time run out): the other seat wins.
  void forfeit(char seat) {
    if (!over())
      result_ = std::string(1, seat == 'X' ? 'O' : 'X');
  }

private:
  bool wins(char s) const {
    static constexpr int lines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
                                        {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
    for (auto& l : lines)
      if (cells_[l[0]] == s && cells_[l[1]] == s && cells_[l[2]] == s)
        return true;
    return false;
  }
  std::array<char, 9> cells_{'.', '.', '.', '.', '.', '.', '.', '.', '.'};
  char turn_ = 'X';
  int moves_ = 0;
  std::string result_;
};

} // namespace tictactoe
