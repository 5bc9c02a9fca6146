from supportdesk.pagination import CappedPaginator


def test_capped_count_of_list(monkeypatch):
    monkeypatch.setattr(CappedPaginator, "count_cap", 5)
    paginator = CappedPaginator(list(range(20)), per_page=2)
    assert paginator.count == 6
    assert paginator.is_capped


def test_count_of_short_list():
    paginator = CappedPaginator(["a", "b", "c"], per_page=2)
    assert paginator.count == 3
    assert not paginator.is_capped
    assert paginator.num_pages == 2
