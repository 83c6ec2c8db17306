"""The page merge of `benchmarks.time_hedge`: the hedged places, and no article shown twice."""

from benchmarks.time_hedge import slots


def test_the_ranker_alone_keeps_its_order() -> None:
    assert slots(())(list(range(12)), [11, 10]) == list(range(10))


def test_hedged_places_take_the_blind_orders_best_not_yet_shown() -> None:
    first = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    second = [2, 20, 21]  # 2 is shown by then: the next of the blind order takes place 10
    assert slots((1, 9))(first, second) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 20]
    assert slots((0,))(first, second) == [2, 1, 3, 4, 5, 6, 7, 8, 9, 10]


def test_a_short_order_hands_its_places_to_the_other() -> None:
    assert slots((0, 1, 2))([1, 2, 3], [9]) == [9, 1, 2, 3]
