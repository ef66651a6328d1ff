"""Chinese of the scenario comparison and the budget frontier."""

CHINESE = {
    # scenarios
    "Put two to four plans or forecasts side by side: what each spends, what it is expected "
    "to bring, and how likely it is to beat the current allocation.":
        "将两到四个预算方案或预测并排比较：各自花费多少、预期带来多少，以及胜过当前分配的可能性有多大。",
    "“Current” is the model's current weekly spend per channel (the average of the last "
    "{weeks} weeks of its data), held over the same period as each scenario. A plan made with "
    "its own current spend compares with that.":
        "“当前”指模型中各渠道当前的每周花费（其数据最后 {weeks} 周的平均值），并按与每个情景相同的"
        "期间计算。带有自定义当前花费的方案则与该花费比较。",
    "These scenarios come from different response models: each rests on its own fit of the "
    "data, so their differences mix the plans with the models.":
        "这些情景来自不同的响应模型：每个都基于各自对数据的拟合，因此它们之间的差异既来自方案，"
        "也来自模型。",
    "These scenarios cover periods of different lengths; compare their totals with that in "
    "mind.": "这些情景覆盖的期间长度不同；比较其总量时请留意这一点。",
    "Scenarios side by side: means, with the 90% interval below (5th to 95th percentile over "
    "the model's posterior draws)":
        "情景并排比较：均值，下方为 90% 区间（模型后验抽样的第 5 至第 95 百分位）",
    "Kind": "类型",
    "Budget plan": "预算方案",
    "ROMI forecast": "ROMI 预测",
    "Model": "模型",
    "Expected KPI": "预期 KPI",
    "ROMI (revenue less spend, per unit spent)": "ROMI（收入减花费，按每单位花费计）",
    "Profit (revenue less spend)": "利润（收入减花费）",
    "Current spend over the same period": "同期当前花费",
    "Current expected KPI over the same period": "同期当前预期 KPI",
    "Chance of beating current on KPI": "KPI 胜过当前的概率",
    "Chance of beating current on profit": "利润胜过当前的概率",
    "A chance of beating current is the share of the model's posterior draws in which the "
    "scenario brings more than the current allocation over the same period. Where a stored "
    "result does not hold it, it is computed on the model's draws.":
        "胜过当前的概率，是模型后验抽样中该情景在同一期间带来的结果多于当前分配的抽样所占比例。"
        "已保存的结果中没有该概率时，按模型的抽样计算。",
    "Download this table (CSV)": "下载此表（CSV）",
    "Choose other scenarios": "选择其他情景",
    "What would another budget buy?": "换一个预算能带来什么？",
    "Budget frontier of model {model}": "模型 {model} 的预算前沿",
    "Choose two to four plans or forecasts": "选择两到四个预算方案或预测",
    "Plans and forecasts of this workspace, newest first": "本工作区的预算方案和预测，最新的在前",
    "Compare": "比较",
    "This workspace has no finished plan or forecast yet. Make two from a fitted response "
    "model, then compare them here.":
        "本工作区还没有已完成的预算方案或预测。先用已拟合的响应模型做两个，再在这里比较。",
    "The budget frontier of a model shows the best plan's expected KPI at every total budget, "
    "where the next amount would go and what a cut would cost.":
        "模型的预算前沿显示每个总预算下最优方案的预期 KPI、下一笔预算会投向哪里，"
        "以及削减预算的代价。",
    "Choose from two to four plans or forecasts; you chose {count}.":
        "请选择两到四个预算方案或预测；您选择了 {count} 个。",
    "No plan or forecast {id} in this workspace.": "本工作区中没有预算方案或预测 {id}。",
    "{id} has no result yet.": "{id} 还没有结果。",
    # the budget frontier
    "The sampler of this model did not converge: these numbers may move when it is fitted "
    "again. Read them as a first look.":
        "此模型的采样器未收敛：重新拟合后这些数字可能会变化。请仅作初步参考。",
    "For each total budget of the period, the best split over the channels and what it is "
    "expected to bring, each channel kept within its cap (1.5 times its largest weekly spend "
    "so far).":
        "对于该期间的每个总预算：各渠道间的最优分配及其预期效果，每个渠道不超过其上限（迄今最大"
        "周花费的 1.5 倍）。",
    "Budget and period": "预算与期间",
    "Budget for the period": "该期间的预算",
    "current": "当前",
    "1.2M, 1,200,000 or 120万; empty for the current spend":
        "1.2M、1,200,000 或 120万；留空则为当前花费",
    "Next amount": "追加金额",
    "Cut (%)": "削减（%）",
    "Today the model's current weekly spend comes to {budget} {period}. Split as it is now, it "
    "is expected to bring {now}; the best split of the same budget would bring {best}.":
        "目前模型的当前每周花费合计为{period} {budget}。按现在的分配，预期带来 {now}；同样预算的"
        "最优分配将带来 {best}。",
    "“Current” is the model's current weekly spend per channel (the average of the last "
    "{weeks} weeks of its data), over the same period. Amounts are in {currency}, per period.":
        "“当前”指模型中各渠道当前的每周花费（其数据最后 {weeks} 周的平均值），按同一期间计算。"
        "金额以 {currency} 计，按期间计。",
    "Top: the expected KPI of the best plan at each total budget, with its 90% band; the "
    "diamond is today's allocation. Bottom: what the next {amount} of budget would bring. The "
    "dashed line is the current budget, the dotted one the budget chosen above.":
        "上图：每个总预算下最优方案的预期 KPI 及其 90% 区间；菱形为当前分配。下图：下一笔 "
        "{amount} 预算能带来的效果。虚线为当前预算，点线为上方选择的预算。",
    "Where the next {amount} would go": "下一笔 {amount} 会投向哪里",
    "Extra spend": "追加花费",
    "KPI added (90% interval)": "增加的 KPI（90% 区间）",
    "All channels": "所有渠道",
    "What a cut of {percent} gives up": "削减 {percent} 会失去什么",
    "Spend given up": "减少的花费",
    "KPI lost (90% interval)": "失去的 KPI（90% 区间）",
    "The frontier, budget by budget": "逐个预算的前沿",
    "Above {ceiling} {period} every channel is at its cap: more budget would stay unspent and "
    "return nothing.":
        "{period}超过 {ceiling} 后，所有渠道都已达上限：更多预算将无法花出，也不会带来回报。",
    "Budget {period}": "预算（{period}）",
    "Left unspent": "未花费",
    "Expected KPI (90% interval)": "预期 KPI（90% 区间）",
    "From the next {amount}": "下一笔 {amount} 带来",
    "{amount} conversions": "{amount} 次转化",
    "The next {amount} {period} would go {split} and add about {kpi} ({low}–{high}).":
        "{period}追加的 {amount} 将 {split}，约多带来 {kpi}（{low}–{high}）。",
    "Cutting the budget by {percent} would lose about {kpi} {period} ({low}–{high}), mostly "
    "from {channels}.":
        "预算削减 {percent} 将{period}失去约 {kpi}（{low}–{high}），主要来自 {channels}。",
    "Cutting the budget by {percent} would lose nothing: the channels are at their caps and "
    "leave that much unspent anyway.":
        "预算削减 {percent} 不会有任何损失：各渠道已达上限，这部分预算本来就花不出去。",
    "The channels are at their caps: the next {amount} {period} would stay unspent.":
        "各渠道已达上限：{period}追加的 {amount} 将无法花出。",
    "Of it, {unspent} would stay unspent: the channels reach their caps.":
        "其中 {unspent} 将无法花出：各渠道已达上限。",
    "{share} to {channel}": "{share} 投向 {channel}",
    " and ": " 和 ",
    "total budget {period}": "总预算（{period}）",
    "expected {kpi} (mean, 90% band)": "预期{kpi}（均值，90% 区间）",
    "{kpi} from the next {amount}": "下一笔 {amount} 带来的{kpi}",
    "best plan at each budget": "各预算下的最优方案",
    "90% band": "90% 区间",
    "today's allocation": "当前分配",
    "current budget": "当前预算",
    "chosen budget": "所选预算",
    "Expected KPI and the return of the next unit against the total budget":
        "预期 KPI 与下一单位预算的回报随总预算的变化",
    "Enter a percentage between 0 and 100.": "请输入 0 到 100 之间的百分比。",
    "Enter an amount such as 1.2M, 1,200,000 or 120万.":
        "请输入金额，如 1.2M、1,200,000 或 120万。",
}
