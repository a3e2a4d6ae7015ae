"""The hall's figures as the hall reports them, one definition for hallctl report and hallsim."""


def satisfaction(counts):
    """满意率 (基本满意 or better) and the number of ratings, from counts by level 1..5."""
    total = sum(counts[1:6])
    return (sum(counts[1:4]) / total if total else None), total
