"""The day's plots as PNG files: waiting time by hour, queue length over the day, window
utilisation, satisfaction by window, and estimated against actual wait."""
from protocol.codes import FINISHED
from hallpc.plotting import png, pyplot


def render(scenario, result, s):
    """[(name, PNG bytes)] of the day's plots."""
    plt = pyplot()
    served = [t for t in result.tickets if t.how == FINISHED]
    files = []

    def save(fig, name, title):
        files.append((name, png(fig, "%s: %s" % (scenario.name, title), fontsize=10)))

    hours = {}
    for t in served:
        hour = (t.issued - scenario.midnight) // 3600
        hours.setdefault(hour, []).append(t.wait / 60)
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = sorted(hours)
    ax.bar(xs, [sum(hours[h]) / len(hours[h]) for h in xs], color="#4a7ab5", label="mean")
    ax.plot(xs, [sorted(hours[h])[int(0.9 * len(hours[h]))] for h in xs], "o-", color="#c0504d",
            label="90th percentile")
    ax.set_xlabel("hour the ticket was taken")
    ax.set_ylabel("wait (minutes)")
    ax.legend()
    save(fig, "wait_by_hour.png", "waiting time by hour")

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([t / 3600 for t, _ in result.queue], [w for _, w in result.queue], color="#4a7ab5")
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("people waiting")
    save(fig, "queue.png", "queue length over the day")

    numbers = list(s["windows"])

    def per_window(key, color, ylabel, name, title):
        fig, ax = plt.subplots(figsize=(max(6, len(numbers) * 0.25), 4))
        ax.bar([str(n) for n in numbers], [100 * (s["windows"][n][key] or 0) for n in numbers],
               color=color)
        ax.set_xlabel("window")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 100)
        save(fig, name, title)

    per_window("utilisation", "#9bbb59", "utilisation (%)", "utilisation.png", "window utilisation")
    per_window("satisfaction", "#f79646", "satisfied (%)", "satisfaction.png",
               "satisfaction by window (rated 基本满意 or better)")

    fig, ax = plt.subplots(figsize=(5, 5))
    actual = [t.wait / 60 for t in served]
    ax.scatter(actual, [t.estimate / 60 for t in served], s=4, alpha=0.4, label="routing core")
    ax.scatter(actual, [t.naive / 60 for t in served], s=4, alpha=0.25, label="naive")
    top = max(actual + [1])
    ax.plot([0, top], [0, top], "k--", linewidth=1)
    ax.set_xlabel("actual wait (minutes)")
    ax.set_ylabel("estimated wait (minutes)")
    ax.legend()
    save(fig, "estimates.png", "estimated against actual wait")
    return files
